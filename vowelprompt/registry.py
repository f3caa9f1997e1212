"""Plain-dict registries (DESIGN.md rule 5): ``name → "module:factory"``, or a user's own dotted path.

>>> load_factory({"dict": "builtins:dict"}, "dict", "thing")(a=1)
{'a': 1}
"""

from __future__ import annotations

import importlib
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
