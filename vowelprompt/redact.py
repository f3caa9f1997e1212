"""Credentials out of everything that is shown or written: the one place that redacts them.

A key reaches the program in a few ways: the userinfo of a URL (``http://user:key@host/v1``), a query
parameter (``?api_key=…``, a signed URL's ``sig=…``), a backend option (``api_key=sk-…``), a command-line
flag (``--api-key sk-…``), and, through a server that echoes the request, any text that comes back.
Whatever goes to a row's error, a run manifest, a log or stderr goes through one of these functions first:

- :func:`redact_url` for one URL, :func:`redact_text` for free text (known secrets, URLs, echoed
  ``Authorization`` headers), :func:`redact_options` for a dict of options, :func:`redact_argv` for a
  command line;
- :func:`is_secret_key` decides which names hold secrets;
- :class:`Secret` holds a value that ``repr``, ``str``, ``vars`` and ``json.dumps`` must not show.

Redaction errs on the side of hiding: a name that merely looks secret (``key_file``) loses its value in
the record, which costs a little provenance, never a key. Every secret becomes :data:`MASK`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote_plus

__all__ = ["MASK", "Secret", "is_secret_key", "redact_argv", "redact_options", "redact_text", "redact_url"]

#: What every redacted value becomes.
MASK = "***"

# Name segments (split at ``_``, ``-``, ``.``, spaces and camelCase humps) that mark a secret …
_SECRET_WORDS = frozenset(
    {
        "key",
        "apikey",
        "token",
        "secret",
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "authorization",
        "auth",
        "bearer",
        "credential",
        "credentials",
        "sig",
        "signature",
    }
)
# … and what marks one anywhere in the name with its separators taken out (``openaiapikey``).
_SECRET_PARTS = ("apikey", "password", "passwd", "secret", "credential", "accesstoken", "authtoken")

_SCHEME = r"[A-Za-z][A-Za-z0-9+.\-]*://"
# One URL: scheme, authority (up to the first / ? #), rest.
_URL = re.compile(rf"({_SCHEME})([^/?#]*)(.*)", re.DOTALL)
# A URL inside text: runs to the next whitespace or quote.
_URL_IN_TEXT = re.compile(rf"{_SCHEME}[^\s\"'<>`]+")
# ``name=value`` after ``?``, ``&``, ``;`` or ``#`` (the query and fragment of a URL).
_PARAM = re.compile(r"([?&;#])([^=&;#]*)=([^&;#]*)")
# An echoed header: ``Authorization: Bearer sk-…``, ``"x-api-key": "…"``, ``authorization=Basic …``.
_HEADER = re.compile(
    r"(?i)\b((?:proxy-)?authorization|x-api-key|api-key)([\"']?\s*[:=]\s*[\"']?)((?:bearer|basic|token)\s+)?"
    r"([^\s\"',;}]+)"
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def is_secret_key(name: str) -> bool:
    """Whether an option, parameter, header or flag called ``name`` holds a secret (case-insensitive;
    ``-``, ``_``, ``.`` and camelCase separate words alike; leading dashes of a flag are ignored).

    >>> [is_secret_key(n) for n in ("api_key", "API-KEY", "apiKey", "--api-key", "OPENAI_API_KEY")]
    [True, True, True, True, True]
    >>> [is_secret_key(n) for n in ("token", "access_token", "hf-token", "Authorization", "passwd", "sig")]
    [True, True, True, True, True, True]
    >>> [is_secret_key(n) for n in ("max_tokens", "tokenizer", "model", "base_url", "author", "monkey")]
    [False, False, False, False, False, False]
    """
    if not isinstance(name, str):
        return False
    words = [w for w in re.split(r"[\s_.\-]+", _CAMEL.sub("_", name).lower()) if w]
    joined = "".join(words)
    return any(w in _SECRET_WORDS for w in words) or any(part in joined for part in _SECRET_PARTS)


def redact_url(url: str) -> str:
    """``url`` with its userinfo replaced by ``***`` and the values of secret-looking query (and fragment)
    parameters by ``***``; everything else is kept character for character. A string that is not a
    ``scheme://`` URL comes back unchanged.

    >>> redact_url("http://user:key@host:8000/v1")
    'http://***@host:8000/v1'
    >>> redact_url("https://sk-abc@api.example.com/v1")
    'https://***@api.example.com/v1'
    >>> redact_url("https://host/v1/files?api-key=abc&page=2&sig=xyz")
    'https://host/v1/files?api-key=***&page=2&sig=***'
    >>> redact_url("http://127.0.0.1:8000/v1")
    'http://127.0.0.1:8000/v1'
    >>> redact_url("not a url")
    'not a url'
    """
    if not isinstance(url, str):
        return url
    match = _URL.fullmatch(url)
    if match is None:
        return url
    scheme, authority, rest = match.groups()
    if "@" in authority:
        authority = MASK + "@" + authority.rpartition("@")[2]
    elif ":" in authority and not authority.rpartition(":")[2].isdigit() and "@" in rest:
        # ``user:pa/ss@host``: a password with an unescaped delimiter, cut by the authority rule above.
        userinfo_end = authority + rest.partition("@")[0]
        if not re.search(r"\s", userinfo_end):
            authority, rest = MASK + "@", rest.partition("@")[2]
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))

    def mask(param: re.Match) -> str:
        sep, name, value = param.groups()
        return f"{sep}{name}={MASK}" if value and is_secret_key(unquote_plus(name)) else param[0]

    return scheme + authority + rest[:cut] + _PARAM.sub(mask, rest[cut:])


def redact_text(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every given secret (non-empty strings of 4 characters or more; shorter ones would
    mask ordinary words) replaced by ``***``, every URL in it through :func:`redact_url` (userinfo, secret
    parameters), and the value of any echoed ``Authorization``/``X-Api-Key``/``Api-Key`` header masked.

    >>> redact_text("HTTP 401: bad key sk-PLANTED-0123456789 for user", ["sk-PLANTED-0123456789", None, ""])
    'HTTP 401: bad key *** for user'
    >>> redact_text("cannot reach http://me:hunter2@host:8000/v1: refused")
    'cannot reach http://***@host:8000/v1: refused'
    >>> redact_text("{'Authorization': 'Bearer abc123', 'Host': 'x'}")
    "{'Authorization': 'Bearer ***', 'Host': 'x'}"
    """
    if not isinstance(text, str):
        return text
    for secret in sorted({s for s in secrets if isinstance(s, str) and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _URL_IN_TEXT.sub(lambda m: redact_url(m[0]), text)
    return _HEADER.sub(lambda m: m[1] + m[2] + (m[3] or "") + MASK, text)


def redact_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``options`` fit to record: the value of every secret-named key is ``***`` (None and ""
    are kept: they say no secret was given), strings go through :func:`redact_text` (URLs, echoed
    headers), dicts and lists are redacted all the way down.

    >>> redact_options({"model": "m", "api_key": "sk-1", "base_url": "http://u:p@h/v1", "max_tokens": 8})
    {'model': 'm', 'api_key': '***', 'base_url': 'http://***@h/v1', 'max_tokens': 8}
    >>> redact_options({"headers": {"X-Api-Key": "abc"}, "urls": ["https://h/?token=t"], "token": None})
    {'headers': {'X-Api-Key': '***'}, 'urls': ['https://h/?token=***'], 'token': None}
    """
    return {
        key: MASK if is_secret_key(key) and value not in (None, "") else _redact_value(value)
        for key, value in options.items()
    }


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, Mapping):
        return redact_options(value)
    if isinstance(value, (list, tuple)):
        return [_redact_value(v) for v in value]
    return value


def redact_argv(argv: list[str]) -> list[str]:
    """A command line fit to record:

    - ``KEY=VALUE`` arguments with a secret KEY (``--backend-option api_key=…``, also as
      ``--backend-option=api_key=…``) become ``KEY=***``;
    - the value of a flag whose name is secret (``--api-key VALUE``, ``--api-key=VALUE``, ``--hf-token …``)
      becomes ``***``;
    - every other argument goes through :func:`redact_text`, so URLs (``--base-url URL``,
      ``--teacher-base-url=URL``, a bare URL) lose their userinfo and secret parameters.

    >>> redact_argv(["--backend-option", "api_key=sk-1", "--backend-option=token=t0k3n", "-o", "seed=4"])
    ['--backend-option', 'api_key=***', '--backend-option=token=***', '-o', 'seed=4']
    >>> redact_argv(["--base-url", "http://u:sk-1@h:8000/v1", "--teacher-base-url=https://k@h/v1"])
    ['--base-url', 'http://***@h:8000/v1', '--teacher-base-url=https://***@h/v1']
    >>> redact_argv(["--api-key", "sk-1", "--hf-token=hf_x", "--max-new-tokens", "64", "a.wav"])
    ['--api-key', '***', '--hf-token=***', '--max-new-tokens', '64', 'a.wav']
    """
    out: list[str] = []
    secret_value_next = False
    for arg in argv:
        if not isinstance(arg, str):
            out.append(arg)
            continue
        if secret_value_next and not arg.startswith("-"):
            out.append(MASK)
            secret_value_next = False
            continue
        secret_value_next = False
        if arg.startswith("-") and arg != "-":
            flag, sep, value = arg.partition("=")
            if not sep:
                # ``--api-key VALUE``; ``--no-auth`` and the like are switches without a value.
                secret_value_next = is_secret_key(flag) and not flag.startswith("--no-")
                out.append(arg)
            elif is_secret_key(flag):
                out.append(f"{flag}={MASK}")
            else:
                out.append(f"{flag}={_redact_assignment(value)}")
        else:
            out.append(_redact_assignment(arg))
    return out


def _redact_assignment(arg: str) -> str:
    """``KEY=***`` for a secret KEY, else the argument through :func:`redact_text`."""
    key, sep, _ = arg.partition("=")
    if sep and key and "://" not in key and is_secret_key(key):
        return f"{key}={MASK}"
    return redact_text(arg)


class Secret:
    """A value that must not be shown: ``repr``, ``str`` and ``format`` give ``***``, it has no
    ``__dict__`` for ``vars`` to list, and :func:`redact_options` masks it. ``.reveal()`` is the value.

    >>> key = Secret("sk-PLANTED-0123456789")
    >>> key, str(key), f"{key}", key.reveal()[:3]
    (***, '***', '***', 'sk-')
    """

    __slots__ = ("_value",)

    def __init__(self, value: str):
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return MASK

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)
