"""Plain-dict registries (docs/architecture.md rule 5): ``name → "module:factory"`` or a dotted path.

>>> load_factory({"dict": "builtins:dict"}, "dict", "thing")(a=1)
{'a': 1}
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable

from vowelprompt.errors import ConfigError


def load_factory(registry: dict[str, str], name: str, what: str) -> Callable:
    """The factory registered as ``name`` (or at ``module:factory``); an unknown name lists the valid ones."""
    target = registry.get(name, name)
    if ":" not in target:
        raise ConfigError(f"unknown {what} {name!r}; choose one of: {', '.join(registry)}")
    module, _, attr = target.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load {what} {name!r} ({target}): {exc}") from exc


def check_options(factory: Callable, name: str, what: str, options: dict) -> None:
    """Raise a one-line :class:`ConfigError` for an option ``factory`` does not take, naming the valid ones
    (``--backend-option concurency=4`` → "did you mean 'concurrency'"); factories with ``**kwargs`` pass."""
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # no signature to check against: let the factory decide
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    positional = inspect.Parameter.VAR_POSITIONAL
    valid = [n for n, p in parameters.items() if n != "self" and p.kind is not positional]
    unknown = [key for key in options if key not in valid]
    if unknown:
        hints = [difflib.get_close_matches(key, valid, 1) for key in unknown]
        hint = "; ".join(f"did you mean {h[0]!r} for {k!r}?" for k, h in zip(unknown, hints) if h)
        raise ConfigError(
            f"{what} {name!r} has no option {', '.join(map(repr, unknown))}"
            f"{' (' + hint + ')' if hint else ''}; its options are: {', '.join(valid)}"
        )


def build(registry: dict[str, str], name: str, what: str, **options):
    """``load_factory(...)(**options)``, with the options checked first by :func:`check_options`."""
    factory = load_factory(registry, name, what)
    check_options(factory, name, what, options)
    return factory(**options)
