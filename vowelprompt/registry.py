"""Plain-dict registries (DESIGN.md rule 5): ``name → "module:factory"``, or a user's own dotted path.

>>> load_factory({"dict": "builtins:dict"}, "dict", "thing")(a=1)
{'a': 1}
"""

from __future__ import annotations

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


def build(registry: dict[str, str], name: str, what: str, **options):
    """``load_factory(...)(**options)``, but an option the factory does not take is a one-line
    :class:`ConfigError` naming the valid ones (``--backend-option concurency=4`` → "did you mean …")."""
    factory = load_factory(registry, name, what)
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # no signature to check against: let the factory decide
        return factory(**options)
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        valid = [
            n for n, p in parameters.items() if n != "self" and p.kind is not inspect.Parameter.VAR_POSITIONAL
        ]
        unknown = [key for key in options if key not in valid]
        if unknown:
            import difflib

            hints = [difflib.get_close_matches(key, valid, 1) for key in unknown]
            hint = "; ".join(f"did you mean {h[0]!r} for {k!r}?" for k, h in zip(unknown, hints) if h)
            raise ConfigError(
                f"{what} {name!r} has no option {', '.join(map(repr, unknown))}"
                f"{' (' + hint + ')' if hint else ''}; its options are: {', '.join(valid)}"
            )
    return factory(**options)
