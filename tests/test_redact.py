"""vowelprompt.redact: the one place credentials are taken out of what is shown or written."""

from __future__ import annotations

import copy
import json

import pytest

from vowelprompt.redact import (
    MASK,
    Secret,
    is_secret_key,
    redact_argv,
    redact_options,
    redact_text,
    redact_url,
)

PLANTED = "sk-PLANTED-0123456789"


# --- is_secret_key -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "api_key",
        "apikey",
        "API_KEY",
        "api-key",
        "Api-Key",
        "apiKey",
        "openai_api_key",
        "OPENAI_API_KEY",
        "openaiapikey",
        "key",
        "x-api-key",
        "token",
        "access_token",
        "accessToken",
        "hf_token",
        "HF-TOKEN",
        "refresh-token",
        "secret",
        "client_secret",
        "password",
        "db_password",
        "passwd",
        "pwd",
        "passphrase",
        "authorization",
        "Authorization",
        "proxy-authorization",
        "auth",
        "x_auth_token",
        "bearer",
        "credential",
        "credentials",
        "aws_credentials",
        "sig",
        "signature",
        "X-Amz-Signature",
        "private_key",
        "--api-key",
        "--hf-token",
    ],
)
def test_secret_names(name):
    assert is_secret_key(name)


@pytest.mark.parametrize(
    "name",
    [
        "model",
        "base_url",
        "max_tokens",
        "max_new_tokens",
        "tokenizer",
        "tokenizer_mode",
        "temperature",
        "seed",
        "concurrency",
        "timeout_s",
        "author",
        "monkey",
        "keyboard",
        "signal",
        "design",
        "authority",
        "vllm_extensions",
        "dtype",
        "",
        "--max-new-tokens",
        "--base-url",
        "--teacher-base-url",
    ],
)
def test_ordinary_names(name):
    assert not is_secret_key(name)


def test_non_strings_are_not_secret_names():
    assert not is_secret_key(3)  # type: ignore[arg-type]
    assert not is_secret_key(None)  # type: ignore[arg-type]


# --- redact_url ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, expected",
    [
        ("http://user:key@host:8000/v1", "http://***@host:8000/v1"),
        (f"http://user:{PLANTED}@127.0.0.1:8000/v1", "http://***@127.0.0.1:8000/v1"),
        (f"https://{PLANTED}@api.example.com/v1", "https://***@api.example.com/v1"),
        ("https://user:@host/v1", "https://***@host/v1"),
        ("http://u:p@[::1]:8000/v1", "http://***@[::1]:8000/v1"),
        ("http://me%40x.org:p%40ss@host/v1", "http://***@host/v1"),
        ("http://u:p@ss@host/v1", "http://***@host/v1"),  # an unescaped @ in the password
        ("http://u:pa/ss@host/v1", "http://***@host/v1"),  # an unescaped / in the password
        ("redis://:hunter2@cache:6379/0", "redis://***@cache:6379/0"),
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
        ("http://host/a@b", "http://host/a@b"),  # @ in the path is not userinfo
        ("http://host:8000/a@b", "http://host:8000/a@b"),
        ("https://host/v1?api-version=2024&api-key=abc", "https://host/v1?api-version=2024&api-key=***"),
        (
            "https://h/p?key=1&page=2&token=t&access_token=a",
            "https://h/p?key=***&page=2&token=***&access_token=***",
        ),
        (
            "https://h/p?secret=s&password=p&sig=x&signature=y",
            "https://h/p?secret=***&password=***&sig=***&signature=***",
        ),
        (
            "https://h/p?auth=a&api_key=k&X-Amz-Signature=z",
            "https://h/p?auth=***&api_key=***&X-Amz-Signature=***",
        ),
        ("https://h/p?api%5Fkey=k&q=a+b", "https://h/p?api%5Fkey=***&q=a+b"),  # names are decoded first
        ("https://h/p?token=&max_tokens=5", "https://h/p?token=&max_tokens=5"),  # nothing to hide
        ("https://h/p?flag&token=t#frag", "https://h/p?flag&token=***#frag"),
        ("https://h/cb#access_token=t&state=s", "https://h/cb#access_token=***&state=s"),
        ("https://u:p@h/p?token=t", "https://***@h/p?token=***"),
    ],
)
def test_redact_url(url, expected):
    assert redact_url(url) == expected


@pytest.mark.parametrize(
    "text",
    ["", "not a url", "host:8000", "127.0.0.1:8000/v1", "/v1?token=abc", "user:pass@host", "a=b", "-"],
)
def test_non_urls_are_unchanged(text):
    assert redact_url(text) == text


def test_redact_url_is_idempotent():
    for url in ("http://user:key@host:8000/v1?token=t", "https://h/?sig=x", "http://h/v1"):
        assert redact_url(redact_url(url)) == redact_url(url)


# --- redact_text ---------------------------------------------------------------------------------------


def test_redact_text_replaces_every_occurrence_of_each_secret():
    text = f"bad key {PLANTED}; again: {PLANTED}. password hunter22 too"
    assert redact_text(text, [PLANTED, "hunter22"]) == "bad key ***; again: ***. password *** too"


def test_redact_text_ignores_short_empty_and_missing_secrets():
    text = "a key abc in the sky"
    assert redact_text(text, ["abc", "", None, "a"]) == text


def test_the_longer_secret_goes_first():
    # A secret that contains another is masked whole, not left with a tail.
    assert redact_text("sk-abcd-efgh", ["sk-abcd", "sk-abcd-efgh"]) == "***"


def test_redact_text_masks_urls_in_text():
    text = f"POST http://user:{PLANTED}@127.0.0.1:8000/v1/chat/completions?sig=zz failed (refused)"
    out = redact_text(text)
    assert out == "POST http://***@127.0.0.1:8000/v1/chat/completions?sig=*** failed (refused)"


@pytest.mark.parametrize(
    "echo",
    [
        f"{{'Authorization': 'Bearer {PLANTED}', 'Host': 'x'}}",
        f'{{"authorization": "Bearer {PLANTED}"}}',
        f"Authorization: Basic {PLANTED}",
        f"x-api-key: {PLANTED}",
        f"api-key={PLANTED}",
        f"Proxy-Authorization: Bearer {PLANTED}",
    ],
)
def test_echoed_headers_are_masked_without_knowing_the_secret(echo):
    out = redact_text(echo)
    assert PLANTED not in out
    assert MASK in out


def test_redact_text_keeps_ordinary_text():
    text = "HTTP 400: This model's maximum context length is 2048 tokens (http://127.0.0.1:8000/v1)"
    assert redact_text(text, [PLANTED]) == text


# --- redact_options ------------------------------------------------------------------------------------


def test_redact_options():
    options = {
        "model": "m",
        "api_key": PLANTED,
        "base_url": f"http://user:{PLANTED}@host:8000/v1",
        "max_tokens": 8,
        "tokenizer": "gpt2",
        "timeout_s": 1.5,
        "vllm_extensions": True,
        "headers": {"Authorization": f"Bearer {PLANTED}", "Accept": "application/json"},
        "mirrors": [f"https://h/?token={PLANTED}", {"password": PLANTED}, 3],
        "hf_token": None,
        "secret": "",
    }
    original = copy.deepcopy(options)
    out = redact_options(options)
    assert options == original  # not changed in place
    assert out == {
        "model": "m",
        "api_key": MASK,
        "base_url": "http://***@host:8000/v1",
        "max_tokens": 8,
        "tokenizer": "gpt2",
        "timeout_s": 1.5,
        "vllm_extensions": True,
        "headers": {"Authorization": MASK, "Accept": "application/json"},
        "mirrors": ["https://h/?token=***", {"password": MASK}, 3],
        "hf_token": None,  # no secret was given: say so
        "secret": "",
    }
    assert PLANTED not in json.dumps(out)


def test_redact_options_masks_a_secret_value_under_any_name():
    assert redact_options({"llm_kwargs": {"x": Secret(PLANTED)}}) == {"llm_kwargs": {"x": MASK}}


def test_redact_options_keeps_non_string_keys():
    assert redact_options({1: "a", "key": 5}) == {1: "a", "key": MASK}


# --- redact_argv ---------------------------------------------------------------------------------------


def test_redact_argv_all_forms():
    argv = [
        "predict",
        "rows.jsonl",
        "--backend",
        "openai",
        "--model",
        "m",
        "--backend-option",
        f"api_key={PLANTED}",
        f"--backend-option=api-key={PLANTED}",
        "--backend-opt",
        f"token={PLANTED}",  # argparse accepts abbreviations
        "--backend-option",
        "concurrency=4",
        "--backend-option",
        f"base_url=http://u:{PLANTED}@h/v1",
        "--base-url",
        f"http://user:{PLANTED}@host:8000/v1",
        f"--teacher-base-url=https://{PLANTED}@api.example.com/v1",
        "--api-key",
        PLANTED,
        f"--hf-token={PLANTED}",
        "--max-new-tokens",
        "64",
        f"https://h/data.jsonl?sig={PLANTED}",
        "--output",
        "out.jsonl",
    ]
    out = redact_argv(argv)
    assert out == [
        "predict",
        "rows.jsonl",
        "--backend",
        "openai",
        "--model",
        "m",
        "--backend-option",
        "api_key=***",
        "--backend-option=api-key=***",
        "--backend-opt",
        "token=***",
        "--backend-option",
        "concurrency=4",
        "--backend-option",
        "base_url=http://***@h/v1",
        "--base-url",
        "http://***@host:8000/v1",
        "--teacher-base-url=https://***@api.example.com/v1",
        "--api-key",
        "***",
        "--hf-token=***",
        "--max-new-tokens",
        "64",
        "https://h/data.jsonl?sig=***",
        "--output",
        "out.jsonl",
    ]
    assert PLANTED not in json.dumps(out)
    assert argv[7] == f"api_key={PLANTED}"  # not changed in place


def test_redact_argv_json_option_values():
    argv = ["--backend-option", f'headers={{"Authorization": "Bearer {PLANTED}"}}']
    assert PLANTED not in " ".join(redact_argv(argv))


def test_redact_argv_switches_take_no_value():
    # A secret-named switch followed by another flag, or a --no-… switch, does not mask the next argument.
    assert redact_argv(["--api-key", "--model", "m"]) == ["--api-key", "--model", "m"]
    assert redact_argv(["--no-auth", "a.wav"]) == ["--no-auth", "a.wav"]


def test_redact_argv_keeps_an_ordinary_command_line():
    argv = ["annotate", "a.wav", "--jobs", "2", "-o", "x.jsonl", "--backend-option", "seed=3", "-"]
    assert redact_argv(argv) == argv
    assert redact_argv([]) == []


# --- Secret --------------------------------------------------------------------------------------------


def test_a_secret_never_shows_itself():
    secret = Secret(PLANTED)
    assert secret.reveal() == PLANTED
    for shown in (
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        format(secret, ">40"),
        repr([secret]),
    ):
        assert PLANTED not in shown
    assert json.dumps({"k": secret}, default=str) == '{"k": "***"}'
    with pytest.raises(TypeError):
        vars(secret)
    with pytest.raises(AttributeError):
        secret.other = 1  # type: ignore[attr-defined]
    assert Secret("a") == Secret("a") and Secret("a") != Secret("b") and Secret("a") != "a"


def test_planted_secrets_never_survive():
    """Everything together: each function's output, for inputs carrying the planted key every way."""
    url = f"http://user:{PLANTED}@h:1/v1?api_key={PLANTED}"
    outputs = [
        redact_url(url),
        redact_text(f"{url} said {PLANTED}", [PLANTED]),
        json.dumps(redact_options({"api_key": PLANTED, "base_url": url, "nested": [{"token": PLANTED}]})),
        " ".join(
            redact_argv(["--base-url", url, "--backend-option", f"api_key={PLANTED}", "--token", PLANTED])
        ),
    ]
    for out in outputs:
        assert PLANTED not in out, out
