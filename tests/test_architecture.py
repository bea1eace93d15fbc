"""The house rules README's architecture section states, read from the source itself.

- no module over 500 lines;
- `retrieval/` and `db/` know nothing of each other, nor of `bot/` or `knowledge/`;
- no import cycle among the modules of a package (imports at module level);
- the domain modules that need no database never import the engine or a session.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "retrieval", "db", "knowledge")
MAX_LINES = 500
# Modules README names as needing no database: the filing workflow and readiness, geo, child ages, prices,
# time, document rendering.
NO_DATABASE = (
    "db/filing/workflow.py", "db/filing/workflow_schema.py", "db/filing/readiness.py", "db/filing/summary.py",
    "db/filing/pdf.py", "db/care/geo.py", "db/care/child_age.py", "db/care/prices.py", "db/core/timeutil.py",
)


def _modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "migrations/versions" not in p.as_posix())


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, *, top_level_only: bool) -> set[str]:
    """The modules `path` imports (`from a import b` counts as a and a.b)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _first_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle in `graph` as the list of its modules, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_is_over_500_lines(package):
    long = {p.relative_to(ROOT).as_posix(): n for p in _modules(package)
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long


@pytest.mark.parametrize(("package", "forbidden"), [
    ("retrieval", ("db", "bot", "knowledge")),
    ("db", ("retrieval", "bot", "knowledge")),
])
def test_retrieval_and_db_know_nothing_of_each_other(package, forbidden):
    reached = {
        (p.relative_to(ROOT).as_posix(), name)
        for p in _modules(package)
        for name in _imports(p, top_level_only=False)
        if name.split(".")[0] in forbidden
    }
    assert not reached


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle_inside_a_package(package):
    names = {_module_name(p): p for p in _modules(package)}
    graph = {
        name: {target for target in _imports(path, top_level_only=True) if target in names and target != name}
        for name, path in names.items()
    }
    # A package's __init__ importing its own modules is how packages re-export; it is not a cycle of modules.
    graph = {name: {t for t in targets if not name.startswith(t + ".") } for name, targets in graph.items()}
    assert _first_cycle(graph) is None


@pytest.mark.parametrize("module", NO_DATABASE)
def test_modules_that_need_no_database_do_not_import_the_engine(module):
    imported = _imports(ROOT / module, top_level_only=False)
    assert not {name for name in imported if name.startswith(("db.core.engine", "sqlmodel", "sqlalchemy"))}


def test_the_cycle_finder_finds_a_cycle():
    """The cycle check above can fail: a made-up graph with a cycle is caught, one without is not."""
    assert _first_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _first_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
