"""Prompt templates: versioned YAML data (``name``, ``version``, ``system``, ``user``), rendered with a tiny
``{variable}`` substitution that names every missing variable.

Shipped templates (``vowelprompt/prompts/ser/``): ``transcript``, ``speechcue``, ``vowelprompt`` and each
``*_context`` variant with the preceding dialogue turns. A user's own file works the same way
(``--template my.yaml``). Every prediction records the template's name, version and content hash.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from vowelprompt.backends import Conversation
from vowelprompt.errors import TemplateError

BUILTIN_PREFIX = "vowelprompt:prompts/ser/"


@dataclass(frozen=True)
class Template:
    """A loaded template; ``hash`` is the first 12 hex digits of the SHA-256 of the file's bytes."""

    name: str
    version: int
    system: str
    user: str
    description: str
    source: str
    hash: str

    @property
    def variables(self) -> list[str]:
        """The variables the template uses, in order of first use.

        >>> load_template("transcript").variables
        ['transcript', 'labels', 'output_instructions']
        """
        seen: list[str] = []
        for text in (self.system, self.user):
            for _, field, _, _ in string.Formatter().parse(text):
                if field is not None and field not in seen:
                    seen.append(field)
        return seen

    @property
    def ref(self) -> str:
        """What :func:`load_template` takes to load this template again: a shipped name or the file's path.

        >>> load_template("transcript").ref
        'transcript'
        """
        if self.source.startswith(BUILTIN_PREFIX):
            return self.source.removeprefix(BUILTIN_PREFIX).removesuffix(".yaml")
        return self.source

    def ident(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "hash": self.hash}

    def render(self, variables: dict[str, str]) -> Conversation:
        """System and user messages with ``variables`` filled in; names every missing variable."""
        missing = [v for v in self.variables if v not in variables]
        if missing:
            raise TemplateError(f"template {self.name!r} needs variable(s) not given: {', '.join(missing)}")
        messages = []
        for role, text in (("system", self.system), ("user", self.user)):
            if text.strip():
                messages.append({"role": role, "content": text.format_map(variables).strip()})
        return messages


def builtin_templates() -> list[str]:
    """Names of the templates shipped with vowelprompt."""
    folder = resources.files("vowelprompt") / "prompts" / "ser"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_template(name_or_path: str) -> Template:
    """A shipped template by name, or a YAML file by path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        raw, source = path.read_bytes(), str(path)
    else:
        ref = resources.files("vowelprompt") / "prompts" / "ser" / f"{name_or_path}.yaml"
        if not ref.is_file():
            raise TemplateError(
                f"unknown template {name_or_path!r}; choose one of: {', '.join(builtin_templates())} "
                "or give a .yaml file"
            )
        raw, source = ref.read_bytes(), f"{BUILTIN_PREFIX}{name_or_path}.yaml"
    try:
        data = yaml.safe_load(raw)
        template = Template(
            name=str(data["name"]),
            version=int(data["version"]),
            system=str(data.get("system") or ""),
            user=str(data["user"]),
            description=str(data.get("description") or ""),
            source=source,
            hash=hashlib.sha256(raw).hexdigest()[:12],
        )
        _ = template.variables  # malformed braces fail here, at load time
        return template
    except (yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise TemplateError(f"{source}: not a valid template ({type(exc).__name__}: {exc})") from None
