"""Generate through any OpenAI-compatible chat server (``vllm serve``, llama.cpp, Ollama, OpenAI itself).

Each conversation is one ``POST {base_url}/chat/completions``; up to ``concurrency`` requests are in flight
at once (a thread pool: the work is waiting on the network), and a server that batches (vLLM) turns them
into one batch. Completions come back in input order.

The client is the standard library's ``urllib``, so this backend needs no extra: a plain ``pip install
vowelprompt`` can query a model served elsewhere. A new connection per request costs ~1 ms on loopback and
one TLS handshake remotely, next to seconds of generation, so a pooling client (httpx, openai) would buy
nothing here; the retry policy, which none of them does the way a batch job needs, is written out below.

Failures:

- ``timeout_s`` is a total deadline for one attempt: connecting, sending, and reading the status, headers
  and whole body. The body is read in chunks and the socket's timeout is set to the time left before
  every read, so a server dripping a byte at a time cannot hold a request past it.
- An answer larger than ``max_response_bytes`` (a chat completion is a few KB) fails the item without
  being read further, at once if its ``Content-Length`` says so; it is not retried (the server would send
  it again). Error bodies are read up to 64 KiB, for their message.
- Connection errors (refused, reset, closed early), timeouts, and HTTP 408, 409, 429 and 5xx are retried
  ``max_retries`` times, waiting ``backoff_s × 2^attempt`` (capped at ``max_backoff_s``) with full
  jitter, or what the server's ``Retry-After``/``retry-after-ms`` header asks for (also capped). A request
  that times out is sent again: the server may still be working on it, so raise ``timeout_s`` rather than
  retries for slow servers.
- ``deadline_s``, if set, bounds an item across all its attempts and waits, from its first attempt (time
  queued behind other items does not count): an attempt gets at most the time left, and a wait that would
  pass the deadline ends the item at once. Unset, an item is bounded by ``timeout_s × (max_retries + 1)``
  plus the waits, each capped by ``max_backoff_s``.
- Any other HTTP error (400 bad request or prompt too long, 401/403 bad key, 404 unknown model) means every
  request would fail the same way: it is not retried. Nor is a redirect, which is not followed either (it
  would carry the key to wherever it points; give the final URL as ``base_url``).
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

Label log-probabilities (``predict --distribution logprobs``): :meth:`OpenAIBackend.generate_scored` with
``logprobs=True`` asks for ``logprobs`` and the ``top_logprobs`` (:data:`TOP_LOGPROBS`) of every token and
reads them at the answer's first token (:func:`~vowelprompt.backends.answers.first_token_logprobs`): each
label's first token's log-probability. A server that sends none, or an answer where the labels cannot be
told apart by their first token, gives no log-probabilities for that row and says why in its note.

Credentials: the key goes as ``Authorization: Bearer {api_key}``. A ``base_url`` may carry userinfo
(``http://user:key@host:8000/v1``, or ``https://TOKEN@host/v1``): it is taken out of the URL requests go
to and sent as HTTP Basic ``Authorization``, unless the ``api_key`` argument is given (then the Bearer key,
as always; ``$OPENAI_API_KEY`` does not override userinfo, which is the more specific). Query parameters of
``base_url`` (``?api-version=…``) go with every request. :attr:`OpenAIBackend.base_url` is the redacted URL
(``http://***@host:8000/v1``, secret query parameters ``***`` too), which is what errors, logs and
manifests show; every error message also passes through :func:`vowelprompt.redact.redact_text` with the
key, the password and the Basic token (a server may echo the request's headers in its error body), and
neither ``repr`` nor ``vars`` of the backend shows them.
"""

from __future__ import annotations

import base64
import json
import os
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from http.client import HTTPException
from typing import Any

from vowelprompt.backends import (
    Answer,
    Conversation,
    Sampling,
    Structure,
    structure_choices,
    structure_format,
)
from vowelprompt.backends.answers import first_token_logprobs
from vowelprompt.backends.http import (
    TooLarge,
    deadline_opener,
    describe,
    error_detail,
    read_body,
    retry_after,
    timed_out,
)
from vowelprompt.errors import BackendError, ConfigError
from vowelprompt.redact import Secret, redact_text, redact_url

#: Where ``vllm serve`` listens by default.
DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"

#: Statuses worth another try: timeout, conflict, rate limit; 5xx are added below.
RETRY_STATUSES = frozenset({408, 409, 429})

#: Alternatives asked for at each token with ``logprobs``: the most OpenAI's API allows.
TOP_LOGPROBS = 20

#: Default bound on an answer's size: a chat completion of 512 tokens is a few KB, 8 MiB is ample.
DEFAULT_MAX_RESPONSE_BYTES = 8 * 2**20


class OpenAIBackend:
    """A chat model behind an OpenAI-compatible HTTP API. Building it sends nothing.

    ``model`` is the name the server knows the model by (``vllm serve … --served-model-name``).
    ``base_url`` defaults to ``$OPENAI_BASE_URL``, then :data:`DEFAULT_BASE_URL`; ``api_key`` to
    ``$OPENAI_API_KEY``, then ``"EMPTY"`` (what a vLLM server without ``--api-key`` accepts); userinfo in
    ``base_url`` is sent as HTTP Basic auth when no ``api_key`` argument is given, and wins over
    ``$OPENAI_API_KEY`` (see the module doc). 8 requests in flight keep a single-GPU vLLM server busy
    without queueing much; ``timeout_s`` bounds each attempt as a whole, from connecting to the last byte
    (60 s: a 512-token answer at ≥10 tokens/s). ``max_response_bytes`` (8 MiB) bounds an answer's size.
    With ``max_retries=5`` and ``backoff_s=0.5`` an item gives up after at most 0.5+1+2+4+8 = 15.5 s of
    waiting (half that on average), long enough for a server restart; ``max_backoff_s`` caps any single
    wait, including a server's ``Retry-After`` (60 s, the longest the openai client honours too).
    ``deadline_s`` (default None: no bound beyond the above) bounds an item's attempts and waits together.

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
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        deadline_s: float | None = None,
    ):
        if concurrency < 1 or timeout_s <= 0 or max_retries < 0 or backoff_s < 0 or max_backoff_s < 0:
            raise ConfigError(
                "need concurrency ≥ 1, timeout_s > 0, max_retries ≥ 0, backoff_s ≥ 0 and max_backoff_s ≥ 0"
            )
        if isinstance(max_response_bytes, bool) or not isinstance(max_response_bytes, int):
            raise ConfigError(f"max_response_bytes must be an integer, got {max_response_bytes!r}")
        if max_response_bytes < 1:
            raise ConfigError(f"need max_response_bytes ≥ 1, got {max_response_bytes}")
        if deadline_s is not None and not deadline_s > 0:
            raise ConfigError(f"need deadline_s > 0 (or None), got {deadline_s!r}")
        given = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        #: The server's URL as shown and recorded: userinfo and secret query parameters are ``***``.
        self.base_url = redact_url(given)
        if not given.startswith(("http://", "https://")):
            raise ConfigError(f"base_url must start with http:// or https://, got {self.base_url!r}")
        parts = urllib.parse.urlsplit(given)
        userinfo, at, host = parts.netloc.rpartition("@")
        try:
            parts.port  # noqa: B018 (raises ValueError for a bad port)
        except ValueError:
            raise ConfigError(f"base_url has a bad port: {self.base_url!r}") from None
        if not parts.hostname:
            raise ConfigError(f"base_url has no host: {self.base_url!r}")
        endpoint = parts._replace(netloc=host, path=parts.path.rstrip("/") + "/chat/completions")
        self._endpoint = Secret(urllib.parse.urlunsplit(endpoint))  # may carry secret query parameters
        self._url = redact_url(urllib.parse.urlunsplit(endpoint._replace(netloc=parts.netloc)))
        user, colon, password = userinfo.partition(":")
        # What must never be shown: the key, the password (as written and decoded), the Basic token; the
        # user name too when it is all there is (``https://TOKEN@host``).
        secrets = [api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"]
        secrets += [password, urllib.parse.unquote(password)] if colon else [user, urllib.parse.unquote(user)]
        if api_key or not at:
            authorization = f"Bearer {secrets[0]}"
        else:
            basic = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}"
            token = base64.b64encode(basic.encode()).decode()
            authorization = f"Basic {token}"
            secrets.append(token)
        self._authorization = Secret(authorization)
        self._secrets = tuple(Secret(s) for s in secrets if s and s != "EMPTY")
        self.model = model
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.vllm_extensions = vllm_extensions
        self.max_response_bytes = max_response_bytes
        self.deadline_s = deadline_s
        self._opener = deadline_opener()

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self.model!r}, base_url={self.base_url!r})"

    def _redact(self, text: str) -> str:
        """``text`` without the key, the password, or any URL's credentials: every error goes through it."""
        return redact_text(text, [s.reveal() for s in self._secrets])

    def generate(
        self, conversations: list[Conversation], sampling: Sampling, structure: Structure | None = None
    ) -> list[str]:
        """One completion per conversation, in input order; the first item that fails (see the module doc)
        raises :class:`BackendError` for the whole call."""
        return [text for text, _ in self._request(conversations, sampling, structure, False)]

    def generate_scored(
        self,
        conversations: list[Conversation],
        sampling: Sampling,
        structure: Structure | None = None,
        logprobs: bool = False,
    ) -> list[Answer]:
        """:meth:`generate`'s completions as :class:`Answer` objects; with ``logprobs`` and a structure that
        names its choices, each carries every label's first-token log-probability (see the module doc)."""
        choices = structure_choices(structure)
        asked = logprobs and bool(choices)
        out = []
        for text, tokens in self._request(conversations, sampling, structure, asked):
            if not asked:
                out.append(Answer(text, note="the structure names no labels to score" if logprobs else ""))
            elif not tokens:
                out.append(Answer(text, note="logprobs: the server sent none"))
            else:
                scores, note = first_token_logprobs(text, tokens, structure_format(structure), choices)
                out.append(Answer(text, scores, note=note))
        return out

    def _request(
        self,
        conversations: list[Conversation],
        sampling: Sampling,
        structure: Structure | None,
        logprobs: bool,
    ) -> list[tuple[str, list | None]]:
        """(text, ``logprobs.content`` or None) per conversation, in input order (see :meth:`generate`)."""
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
        if logprobs:
            fields.update(logprobs=True, top_logprobs=TOP_LOGPROBS)
        stop = threading.Event()
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(conversations))) as pool:
            futures = [
                pool.submit(self._complete, i, {**fields, "messages": c}, stop)
                for i, c in enumerate(conversations)
            ]
            pending, failure = set(futures), None
            try:
                # In short waits: a Ctrl-C that Linux hands to a request thread runs its handler only
                # when the main thread runs Python again (not during an untimed wait).
                while pending and failure is None:
                    done, pending = wait(pending, timeout=0.25, return_when=FIRST_EXCEPTION)
                    failure = next((f.exception() for f in done if f.exception() is not None), None)
            finally:
                if failure is not None or pending:  # failed or interrupted (Ctrl-C, SIGTERM)
                    stop.set()  # running items stop retrying; waiting ones are dropped
                    for future in futures:
                        future.cancel()
        if failure is not None:
            raise failure
        return [future.result() for future in futures]

    def constrains(self, structure: Structure | None) -> bool:
        """Whether the request carries ``structure``: a JSON schema always, a regex only as vLLM's extension
        (a server that honours neither field is not something the client can tell)."""
        return bool(self._structure_fields(structure))

    def _structure_fields(self, structure: Structure | None) -> dict[str, Any]:
        if structure is not None and structure.json_schema is not None:
            schema = {"name": "answer", "schema": structure.json_schema, "strict": True}
            return {"response_format": {"type": "json_schema", "json_schema": schema}}
        if structure is not None and structure.regex is not None and self.vllm_extensions:
            return {"structured_outputs": {"regex": structure.regex}}
        return {}

    def _complete(self, index: int, body: dict[str, Any], stop: threading.Event) -> tuple[str, Any] | None:
        """The completion of one request, retried as the module doc says; None if ``stop`` was set."""
        url = self._url  # redacted: what messages show
        data = json.dumps(body).encode()
        item_deadline = None if self.deadline_s is None else time.monotonic() + self.deadline_s
        attempts, out_of_time = 0, False
        for attempt in range(self.max_retries + 1):
            if stop.is_set():
                return None
            budget = self.timeout_s
            if item_deadline is not None:
                budget = min(budget, item_deadline - time.monotonic())
                if budget <= 0:
                    out_of_time = True
                    break
            attempts += 1
            wait_s = None
            try:
                return self._attempt(data, budget)
            except TooLarge as exc:
                raise self._error(f"{url}: item {index}: {exc}") from None
            except _NotOpenAI as exc:
                raise self._error(f"{url} did not answer like an OpenAI-compatible server: {exc}") from None
            except urllib.error.HTTPError as exc:
                reason = f"HTTP {exc.code}: {error_detail(exc, self.max_response_bytes)}"
                if 300 <= exc.code < 400:
                    reason = f"HTTP {exc.code}: redirects to {exc.headers.get('Location')!r}, not followed"
                if exc.code not in RETRY_STATUSES and exc.code < 500:
                    raise self._error(f"{url} refused item {index}: {reason}") from None
                wait_s = retry_after(exc.headers)
            except (OSError, HTTPException) as exc:  # refused, reset, closed early, timed out
                reason = describe(exc)
                if timed_out(exc):
                    reason = f"TimeoutError: timed out (no complete answer within {budget:.3g} s)"
            if attempt < self.max_retries:
                pause = self._pause(attempt, wait_s)
                if item_deadline is not None and time.monotonic() + pause >= item_deadline:
                    out_of_time = True
                    break
                stop.wait(pause)
        within = f" within deadline_s={self.deadline_s:g} s" if out_of_time else ""
        raise self._error(f"{url}: item {index} failed after {attempts} attempts{within}: {reason}")

    def _attempt(self, data: bytes, budget: float) -> tuple[str, Any]:
        """One POST, all of it (connect, send, status, headers, body) within ``budget`` seconds."""
        request = urllib.request.Request(
            self._endpoint.reveal(),
            data=data,
            headers={"Content-Type": "application/json", "Authorization": self._authorization.reveal()},
            method="POST",
        )
        request.deadline = time.monotonic() + budget  # read by http.deadline_opener's handlers
        with self._opener.open(request, timeout=budget) as response:
            return _content(read_body(response, self.max_response_bytes))

    def _error(self, message: str) -> BackendError:
        return BackendError(self._redact(message))

    def _pause(self, attempt: int, asked_s: float | None) -> float:
        """Seconds before retry ``attempt + 1``: what the server asked, else exponential with full jitter
        (a uniform draw below the exponential ceiling, so clients that failed together retry apart)."""
        if asked_s is not None:
            return min(self.max_backoff_s, asked_s)
        return random.uniform(0, min(self.max_backoff_s, self.backoff_s * 2**attempt))


class _NotOpenAI(Exception):
    """An answer that is not a chat completion: not retried."""


def _content(raw: bytes) -> tuple[str, list | None]:
    """The message text of a chat completion (empty if the server sent none) and its tokens' log-probabilities
    (``logprobs.content``; None if the server sent none)."""
    try:
        choice = json.loads(raw)["choices"][0]
        tokens = (choice.get("logprobs") or {}).get("content")
        return choice["message"]["content"] or "", tokens if isinstance(tokens, list) else None
    except (ValueError, KeyError, IndexError, TypeError):
        head = raw[:80].decode(errors="replace").replace("\n", " ")
        raise _NotOpenAI(repr(head)) from None
