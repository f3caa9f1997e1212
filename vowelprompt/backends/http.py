"""HTTP plumbing for the OpenAI-compatible client (:mod:`vowelprompt.backends.openai`), on the standard
library's ``urllib``: a total deadline per request, a bounded body read, no redirects, and the small
readers of what a failed request says (its error message, ``Retry-After``, whether it timed out).
"""

from __future__ import annotations

import email.utils
import functools
import http.client
import io
import json
import time
import urllib.error
import urllib.request
from http.client import HTTPException

#: How much of an error body is read for its message.
ERROR_BODY_BYTES = 64 * 2**10

#: Bytes read from the socket at a time.
CHUNK_BYTES = 64 * 2**10


def deadline_opener() -> urllib.request.OpenerDirector:
    """A urllib opener whose requests honour ``request.deadline`` (a :func:`time.monotonic` time) for the
    whole exchange, and that follows no redirect."""
    return urllib.request.build_opener(DeadlineHTTPHandler(), DeadlineHTTPSHandler(), NoRedirectHandler())


class TooLarge(Exception):
    """An answer over ``max_response_bytes``: not retried."""


def read_body(response: http.client.HTTPResponse, limit: int) -> bytes:
    """The whole body, in chunks; :class:`TooLarge` as soon as it (or its ``Content-Length``) passes
    ``limit``, having read at most ``limit + 1`` bytes."""
    length = (response.headers.get("Content-Length") or "").strip()
    if length.isdigit() and int(length) > limit:
        raise TooLarge(f"the answer's Content-Length {int(length)} is over max_response_bytes={limit}")
    body = bytearray()
    while len(body) <= limit:
        chunk = response.read(min(CHUNK_BYTES, limit + 1 - len(body)))
        if not chunk:
            return bytes(body)
        body += chunk
    raise TooLarge(f"the answer is over max_response_bytes={limit} (stopped reading there)")


def error_detail(exc: urllib.error.HTTPError, limit: int = ERROR_BODY_BYTES) -> str:
    """The server's error message (OpenAI: ``{"error": {"message"}}``; vLLM: also ``{"message"}``), from
    at most ``limit`` (and :data:`ERROR_BODY_BYTES`) bytes of the body."""
    try:
        text = exc.read(min(limit, ERROR_BODY_BYTES)).decode(errors="replace")
    except (OSError, HTTPException, ValueError):
        text = ""
    try:
        body = json.loads(text)
        error = body.get("error") or body
        message = str(error.get("message", text)) if isinstance(error, dict) else str(error)
    except (ValueError, AttributeError):  # not JSON (or cut short), or JSON but not an object
        message = text
    return " ".join(message.split())[:300] or str(exc.reason)


def retry_after(headers) -> float | None:
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


def describe(exc: BaseException) -> str:
    """One line for a connection-level failure: URLError wraps the socket error in ``reason``."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    text = str(reason).strip()
    return f"{type(reason).__name__}: {text}" if text else type(reason).__name__


def timed_out(exc: BaseException) -> bool:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return isinstance(reason, TimeoutError)


# --- a total deadline per attempt ----------------------------------------------------------------------
#
# A socket timeout restarts at every byte received. To bound a whole attempt, each connection's response
# reads its socket through DeadlineReader, which sets the socket's timeout to the time left before every
# read (and fails once none is left): the status line, the headers and the body alike. The deadline rides
# on the request (``request.deadline``); the handlers hand it to the connection they build. Proxies
# ($http_proxy …) are handled by urllib as before.


class DeadlineReader(io.RawIOBase):
    """A socket's raw reader that never waits past ``deadline`` (a :func:`time.monotonic` time)."""

    def __init__(self, raw: io.RawIOBase, sock, deadline: float):
        super().__init__()
        self._raw, self._sock, self._deadline = raw, sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int | None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        self._sock.settimeout(left)
        return self._raw.readinto(buffer)

    def fileno(self) -> int:
        return self._raw.fileno()

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class DeadlineResponse(http.client.HTTPResponse):
    def __init__(self, sock, *args, deadline: float, **kwargs):
        super().__init__(sock, *args, **kwargs)
        # The buffered reader http.client made is still empty: keep its raw socket reader, read it anew.
        self.fp = io.BufferedReader(DeadlineReader(self.fp.detach(), sock, deadline))


class DeadlineHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, deadline: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if deadline is not None:
            self.response_class = functools.partial(DeadlineResponse, deadline=deadline)


class DeadlineHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, deadline: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if deadline is not None:
            self.response_class = functools.partial(DeadlineResponse, deadline=deadline)


class DeadlineHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        connection = functools.partial(DeadlineHTTPConnection, deadline=getattr(req, "deadline", None))
        return self.do_open(connection, req)


class DeadlineHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        connection = functools.partial(DeadlineHTTPSConnection, deadline=getattr(req, "deadline", None))
        return self.do_open(connection, req, context=self._context)


class NoRedirectHandler(urllib.request.HTTPRedirectHandler):
    """Redirects are not followed: urllib would resend the ``Authorization`` header to wherever the server
    points (another host too), and turn the POST into a GET that no chat server answers. The 3xx comes back
    as an :class:`urllib.error.HTTPError`, a failure that is not retried."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None
