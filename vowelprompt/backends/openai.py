"""Generate through any OpenAI-compatible chat server (``vllm serve``, llama.cpp, Ollama, OpenAI itself).

Each conversation is one ``POST {base_url}/chat/completions``; up to ``concurrency`` requests are in flight
at once (a thread pool: the work is waiting on the network), and a server that batches (vLLM) turns them
into one batch. Completions come back in input order.

The client is the standard library's ``urllib``, so this backend needs no extra: a plain ``pip install
vowelprompt`` can query a model served elsewhere. A new connection per request costs ~1 ms on loopback and
one TLS handshake remotely, next to seconds of generation, so a pooling client (httpx, openai) would buy
nothing here; the retry policy, which none of them does the way a batch job needs, is written out below.

Failures:

- Connection errors (refused, reset, closed early), timeouts, and HTTP 408, 409, 429 and 5xx are retried
  ``max_retries`` times, waiting ``backoff_s × 2^attempt`` (capped at ``max_backoff_s``) with full
  jitter, or what the server's ``Retry-After``/``retry-after-ms`` header asks for (also capped). A request
  that times out is sent again: the server may still be working on it, so raise ``timeout_s`` rather than
  retries for slow servers.
- Any other HTTP error (400 bad request or prompt too long, 401/403 bad key, 404 unknown model) means every
  request would fail the same way: it is not retried.
- Either way the item's failure fails the whole call with a one-line :class:`BackendError` naming the item,
  the server and the reason; requests not yet sent are dropped and retries in progress stop. The caller
  (``predict``) records the error on every row of the batch and ``--resume`` retries them, so one bad item
  costs one batch, not the run.

Structured output: a JSON schema goes as ``response_format: {"type": "json_schema", …}``, which OpenAI and
vLLM both honour. A regular expression has no standard field; with ``vllm_extensions`` (default) it goes as
vLLM's ``structured_outputs: {"regex": …}`` (the old ``guided_regex`` is gone from vLLM 0.32); servers that
reject unknown fields (OpenAI) need ``vllm_extensions=False``, which drops regexes (the parser copes).
``max_tokens`` is sent rather than the newer ``max_completion_tokens`` because every compatible server
accepts it.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from http.client import HTTPException
from typing import Any

from vowelprompt.backends import Conversation, Sampling, Structure
from vowelprompt.errors import BackendError, ConfigError

#: Where ``vllm serve`` listens by default.
DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"

#: Statuses worth another try: timeout, conflict, rate limit; 5xx are added below.
RETRY_STATUSES = frozenset({408, 409, 429})


class OpenAIBackend:
    """A chat model behind an OpenAI-compatible HTTP API. Building it sends nothing.

    ``model`` is the name the server knows the model by (``vllm serve … --served-model-name``).
    ``base_url`` defaults to ``$OPENAI_BASE_URL``, then :data:`DEFAULT_BASE_URL`; ``api_key`` to
    ``$OPENAI_API_KEY``, then ``"EMPTY"`` (what a vLLM server without ``--api-key`` accepts). 8 requests in
    flight keep a single-GPU vLLM server busy without queueing much; ``timeout_s`` bounds the wait for each
    connect and each read (60 s: a 512-token answer at ≥10 tokens/s). With ``max_retries=5`` and
    ``backoff_s=0.5`` an item gives up after at most 0.5+1+2+4+8 = 15.5 s of waiting (half that on average),
    long enough for a server restart; ``max_backoff_s`` caps any single wait, including a server's
    ``Retry-After`` (60 s, the longest the openai client honours too).

    >>> backend = OpenAIBackend("smollm2-135m", base_url="http://127.0.0.1:8000/v1")
    >>> chat = [{"role": "user", "content": "Say hi."}]
    >>> backend.generate([chat], Sampling(max_new_tokens=8))  # doctest: +SKIP
    ['Hello! How can I help you today?']
    """

    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        concurrency: int = 8,
        timeout_s: float = 60.0,
        max_retries: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 60.0,
        vllm_extensions: bool = True,
    ):
        if concurrency < 1 or timeout_s <= 0 or max_retries < 0 or backoff_s < 0 or max_backoff_s < 0:
            raise ConfigError(
                "need concurrency ≥ 1, timeout_s > 0, max_retries ≥ 0, backoff_s ≥ 0 and max_backoff_s ≥ 0"
            )
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"base_url must start with http:// or https://, got {self.base_url!r}")
        self._api_key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.vllm_extensions = vllm_extensions

    def generate(
        self, conversations: list[Conversation], sampling: Sampling, structure: Structure | None = None
    ) -> list[str]:
        """One completion per conversation, in input order; the first item that fails (see the module doc)
        raises :class:`BackendError` for the whole call."""
        if not conversations:
            return []
        fields = {
            "model": self.model,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_new_tokens,
            "seed": sampling.seed,
            **self._structure_fields(structure),
        }
        stop = threading.Event()
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(conversations))) as pool:
            futures = [
                pool.submit(self._complete, i, {**fields, "messages": c}, stop)
                for i, c in enumerate(conversations)
            ]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failure = next((f.exception() for f in done if f.exception() is not None), None)
            if failure is not None:
                stop.set()  # running items stop retrying; waiting ones are dropped
                for future in futures:
                    future.cancel()
        if failure is not None:
            raise failure
        return [future.result() for future in futures]

    def _structure_fields(self, structure: Structure | None) -> dict[str, Any]:
        if structure is not None and structure.json_schema is not None:
            schema = {"name": "answer", "schema": structure.json_schema, "strict": True}
            return {"response_format": {"type": "json_schema", "json_schema": schema}}
        if structure is not None and structure.regex is not None and self.vllm_extensions:
            return {"structured_outputs": {"regex": structure.regex}}
        return {}

    def _complete(self, index: int, body: dict[str, Any], stop: threading.Event) -> str | None:
        """The completion of one request, retried as the module doc says; None if ``stop`` was set."""
        url = f"{self.base_url}/chat/completions"
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self._api_key}"},
            method="POST",
        )
        for attempt in range(self.max_retries + 1):
            if stop.is_set():
                return None
            wait_s = None
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    raw = response.read()
                return _content(raw, url)
            except urllib.error.HTTPError as exc:
                reason = f"HTTP {exc.code}: {_error_detail(exc)}"
                if exc.code not in RETRY_STATUSES and exc.code < 500:
                    raise BackendError(f"{url} refused item {index}: {reason}") from None
                wait_s = _retry_after(exc.headers)
            except (OSError, HTTPException) as exc:  # refused, reset, closed early, timed out
                reason = _describe(exc)
            if attempt < self.max_retries:
                stop.wait(self._pause(attempt, wait_s))
        attempts = self.max_retries + 1
        raise BackendError(f"{url}: item {index} failed after {attempts} attempts: {reason}")

    def _pause(self, attempt: int, asked_s: float | None) -> float:
        """Seconds before retry ``attempt + 1``: what the server asked, else exponential with full jitter
        (a uniform draw below the exponential ceiling, so clients that failed together retry apart)."""
        if asked_s is not None:
            return min(self.max_backoff_s, asked_s)
        return random.uniform(0, min(self.max_backoff_s, self.backoff_s * 2**attempt))


def _content(raw: bytes, url: str) -> str:
    """The message text of a chat completion (empty if the server sent none)."""
    try:
        return json.loads(raw)["choices"][0]["message"]["content"] or ""
    except (ValueError, KeyError, IndexError, TypeError):
        head = raw[:80].decode(errors="replace").replace("\n", " ")
        raise BackendError(f"{url} did not answer like an OpenAI-compatible server: {head!r}") from None


def _error_detail(exc: urllib.error.HTTPError) -> str:
    """The server's error message (OpenAI: ``{"error": {"message"}}``; vLLM: also ``{"message"}``)."""
    try:
        text = exc.read().decode(errors="replace")
    except (OSError, HTTPException):
        text = ""
    try:
        body = json.loads(text)
        error = body.get("error") or body
        message = str(error.get("message", text)) if isinstance(error, dict) else str(error)
    except (ValueError, AttributeError):  # not JSON, or JSON but not an object
        message = text
    return " ".join(message.split())[:300] or str(exc.reason)


def _retry_after(headers) -> float | None:
    """Seconds the server asks to wait: ``retry-after-ms`` (OpenAI), or ``Retry-After`` in seconds or as
    an HTTP date; None if it asks nothing sensible."""
    try:
        if headers.get("retry-after-ms"):
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        value = headers.get("Retry-After")
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (ValueError, TypeError):
        return None


def _describe(exc: BaseException) -> str:
    """One line for a connection-level failure: URLError wraps the socket error in ``reason``."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    text = str(reason).strip()
    return f"{type(reason).__name__}: {text}" if text else type(reason).__name__
