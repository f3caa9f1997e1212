"""The package keeps the shape docs/architecture.md describes: its import graph has no cycle, no module
imports one of a higher stage (at module level or inside a function), no module passes 400 lines, and
every design document the code cites is in the repository.

The graph is read from the source with :mod:`ast` (nothing is imported), so these checks take milliseconds.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "vowelprompt"

#: Stage of every module, the table of docs/architecture.md ("Stages and the layering rule"). A key names a
#: module or a whole wing (``vowelprompt.align`` covers ``vowelprompt.align.*``); the longest key that
#: matches a module gives its stage. A module may import only modules of its own stage or a lower one.
STAGES: dict[str, int] = {
    # 0 foundations
    "vowelprompt.errors": 0,
    "vowelprompt.records": 0,
    "vowelprompt.registry": 0,
    "vowelprompt.versions": 0,
    "vowelprompt.redact": 0,
    "vowelprompt.io": 0,
    "vowelprompt.outputs": 0,
    "vowelprompt.shards": 0,
    "vowelprompt.labels": 0,
    # 1 audio
    "vowelprompt.audio": 1,
    "vowelprompt.media": 1,
    # 2 speech in
    "vowelprompt.align": 2,
    "vowelprompt.asr": 2,
    "vowelprompt.transcripts": 2,
    "vowelprompt.corpora": 2,
    # 3 measurement
    "vowelprompt.features": 3,
    "vowelprompt.bins": 3,
    "vowelprompt.normalize": 3,
    "vowelprompt.quality": 3,
    # 4 description
    "vowelprompt.verbalize": 4,
    # 5 annotation (the package itself offers a lazy ``annotate``)
    "vowelprompt": 5,
    "vowelprompt.pipeline": 5,
    "vowelprompt.annotate_config": 5,
    "vowelprompt.missing": 5,
    "vowelprompt.workers": 5,
    "vowelprompt.plot": 5,
    # 6 models
    "vowelprompt.models": 6,
    "vowelprompt.backends": 6,
    # 7 prompts
    "vowelprompt.prompts": 7,
    # 8 answers
    "vowelprompt.parse": 8,
    "vowelprompt.parse_modes": 8,
    "vowelprompt.metrics": 8,
    "vowelprompt.evaluation": 8,
    "vowelprompt.soft_metrics": 8,
    "vowelprompt.soft_evaluation": 8,
    "vowelprompt.distribution": 8,
    # 9 runs
    "vowelprompt.predict": 9,
    "vowelprompt.training_data": 9,
    "vowelprompt.rewards": 9,
    "vowelprompt.experiment": 9,
    "vowelprompt.baselines": 9,
    # 10 interface
    "vowelprompt.cli": 10,
}

#: Keys of :data:`STAGES` that are wings: every module under them shares the wing's stage.
WINGS = (
    "vowelprompt.align",
    "vowelprompt.corpora",
    "vowelprompt.backends",
    "vowelprompt.prompts",
    "vowelprompt.experiment",
    "vowelprompt.cli",
)

MAX_LINES = 400

#: Where the code cites design documents.
CITING_DIRS = ("vowelprompt", "recipes", "tests", "benchmarks")
CITING_SUFFIXES = {".py", ".yaml", ".yml", ".md", ".txt", ".cfg", ".toml"}
DOC_CITATION = re.compile(r"\bdocs/[\w./-]*?\.md\b")
#: The design notes that lived outside the repository before docs/ existed, and where they went.
OLD_NOTES = {
    "METHOD.md": "docs/method.md",
    "DESIGN.md": "docs/architecture.md",
    "OFFLINE.md": "docs/offline.md",
    "CORPORA.md": "docs/corpora.md",
}
OLD_CITATION = re.compile(r"(?<![\w/.-])(" + "|".join(re.escape(n) for n in OLD_NOTES) + r")\b")


@dataclass(frozen=True)
class Import:
    source: str  #: importing module
    target: str  #: imported vowelprompt module
    line: int
    top_level: bool  #: executed when ``source`` is imported (not inside a function or ``if TYPE_CHECKING``)

    def __str__(self) -> str:
        where = "" if self.top_level else " (inside a function)"
        return f"{self.source} → {self.target}  ({module_path(self.source)}:{self.line}){where}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (packages by their ``__init__``)."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def module_path(name: str) -> str:
    return str(modules()[name].relative_to(REPO))


def resolve(name: str) -> str | None:
    """The package module that ``import name`` loads last: ``name`` itself, else its nearest parent."""
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports_of(name: str, path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, top_level: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, False)
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    visit(ast.Module(body=[stmt], type_ignores=[]), False)
                for stmt in child.orelse:
                    visit(ast.Module(body=[stmt], type_ignores=[]), top_level)
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == "vowelprompt" and (target := resolve(alias.name)):
                        found.append(Import(name, target, child.lineno, top_level))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                if base.split(".")[0] != "vowelprompt":
                    continue
                for alias in child.names:
                    # ``from pkg import sub`` imports the module pkg.sub; ``from mod import name``, mod.
                    target = f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules() else resolve(base)
                    if target:
                        found.append(Import(name, target, child.lineno, top_level))
            else:
                visit(child, top_level)

    visit(tree, True)
    return [i for i in dict.fromkeys(found) if i.target != name]  # one per statement, not per name


@cache
def imports() -> tuple[Import, ...]:
    return tuple(i for name, path in modules().items() for i in _imports_of(name, path))


def stage(name: str) -> int | None:
    for key in sorted(STAGES, key=len, reverse=True):
        if name == key or (key in WINGS and name.startswith(key + ".")):
            return STAGES[key]
    return None


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return components


def test_the_graph_is_read():
    names = modules()
    assert {"vowelprompt", "vowelprompt.records", "vowelprompt.cli"} <= set(names)
    edges = {(i.source, i.target) for i in imports()}
    assert ("vowelprompt.normalize", "vowelprompt.records") in edges  # a module-level import
    assert any(i.source == "vowelprompt" and not i.top_level for i in imports())  # the lazy ``annotate``


def test_no_import_cycles():
    edges: dict[str, set[str]] = {}
    for i in imports():
        if i.top_level:
            edges.setdefault(i.source, set()).add(i.target)
    cycles = find_cycles(edges)
    report = []
    for component in cycles:
        members = set(component)
        report.append(" ⇄ ".join(component))
        report += [
            f"    {i}" for i in imports() if i.top_level and i.source in members and i.target in members
        ]
    assert not cycles, "module-level imports form a cycle (move the shared code down a stage):\n" + "\n".join(
        report
    )


def test_every_module_has_a_stage():
    missing = sorted(name for name in modules() if stage(name) is None)
    assert not missing, (
        "modules without a stage: add them to STAGES in tests/test_architecture.py and to the module map of "
        f"docs/architecture.md: {', '.join(missing)}"
    )


def test_no_import_from_a_higher_stage():
    upward = [
        f"{i}: stage {stage(i.source)} imports stage {stage(i.target)}"
        for i in imports()
        if stage(i.source) is not None and stage(i.target) is not None and stage(i.target) > stage(i.source)
    ]
    assert not upward, (
        "a lower stage imports a higher one (docs/architecture.md, 'Stages and the layering rule'); move the "
        "shared code down, or pass it in as an argument:\n" + "\n".join(upward)
    )


def test_no_module_over_the_line_limit():
    long = {
        module_path(name): n
        for name, path in modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, (
        f"modules over {MAX_LINES} lines (docs/architecture.md rule 8: split by noun): "
        + ", ".join(f"{p} ({n})" for p, n in sorted(long.items(), key=lambda kv: -kv[1]))
    )


def _citing_files():
    for folder in CITING_DIRS:
        for path in sorted((REPO / folder).rglob("*")):
            # This file names the old notes and the documents on purpose.
            if (
                path.suffix not in CITING_SUFFIXES
                or "fixtures" in path.parts
                or path == Path(__file__).resolve()
            ):
                continue
            if path.is_file():
                yield path


@cache
def _citing_lines() -> tuple[tuple[Path, tuple[str, ...]], ...]:
    return tuple(
        (path, tuple(path.read_text(encoding="utf-8", errors="replace").splitlines()))
        for path in _citing_files()
    )


def _citations(pattern: re.Pattern) -> list[tuple[str, int, str]]:
    found = []
    for path, lines in _citing_lines():
        for number, line in enumerate(lines, 1):
            found += [
                (str(path.relative_to(REPO)), number, m.group(1 if m.groups() else 0))
                for m in pattern.finditer(line)
            ]
    return found


def test_cited_docs_exist():
    missing = [
        f"{where}:{line}: {doc}"
        for where, line, doc in _citations(DOC_CITATION)
        if not (REPO / doc).is_file()
    ]
    assert not missing, "the code cites documents that are not in docs/:\n" + "\n".join(missing)


def test_no_citation_of_notes_outside_the_repository():
    old = [
        f"{where}:{line}: {note} → cite {OLD_NOTES[note]} (same section numbers)"
        for where, line, note in _citations(OLD_CITATION)
    ]
    assert not old, "citations of design notes a clone does not contain:\n" + "\n".join(old)
