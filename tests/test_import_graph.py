"""The import graph of judges/ and leaderboard/, read with ``ast``: no cycle, and a small leaderboard top level."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("judges", "leaderboard")
#: The most modules ``leaderboard/`` may hold beside its subpackages (``__init__`` and ``__main__`` count).
MAX_TOP_LEVEL = 6


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import that runs: at module level or inside functions, not under ``if TYPE_CHECKING``."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if _type_checking_only(node):
            stack.extend(node.orelse)  # only the else branch runs
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports, relative and package imports resolved.

    ``from pkg import x`` is an edge to ``pkg.x`` when that is a module, else to ``pkg`` (its face).
    """
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    edges: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        for target in targets:
            # `import a.b.c` names a.b.c; keep the longest prefix that is a project module.
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                edges.add(target)
    return edges


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as a path (first module repeated at the end), or [] when there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return []


def test_the_graph_resolves_relative_and_package_imports():
    graph = import_graph()
    assert "leaderboard.store.format" in graph["leaderboard.store.read"]
    assert "leaderboard.store.read" in graph["leaderboard.store"]  # the face imports its rooms
    assert all(target in graph for edges in graph.values() for target in edges)


def test_no_import_cycle_in_judges_or_leaderboard():
    cycle = find_cycle(import_graph())
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def test_the_store_reader_and_writer_never_import_each_other():
    graph = import_graph()
    assert "leaderboard.store.write" not in graph["leaderboard.store.read"]
    assert "leaderboard.store.read" not in graph["leaderboard.store.write"]


def test_leaderboard_layers_import_only_downwards():
    # schema <- store <- benchmarks <- {metrics, runner} <- board <- submissions <- ui
    rank = {"errors": 0, "schema": 0, "store": 1, "benchmarks": 2, "metrics": 3, "runner": 3, "board": 4,
            "submissions": 5, "ui": 6}  # fmt: skip
    graph = import_graph()
    wrong = []
    for name, edges in graph.items():
        parts = name.split(".")
        if parts[0] != "leaderboard" or len(parts) < 2 or parts[1] not in rank:
            continue
        for target in edges:
            tparts = target.split(".")
            inside = tparts[0] == "leaderboard" and len(tparts) > 1 and tparts[1] in rank
            if inside and rank[tparts[1]] > rank[parts[1]]:
                wrong.append(f"{name} -> {target}")
    assert not wrong, "imports against the layer order: " + ", ".join(sorted(wrong))


def test_leaderboard_top_level_holds_at_most_six_modules():
    top = sorted(p.name for p in (ROOT / "leaderboard").glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL, (
        f"leaderboard/ holds {len(top)} modules ({', '.join(top)}); move some into a package"
    )


def test_every_leaderboard_package_has_a_face_with_a_map_of_its_rooms():
    for init in (ROOT / "leaderboard").rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        rooms = sorted(p.stem for p in init.parent.glob("*.py") if p.stem not in ("__init__", "__main__"))
        rooms += sorted(p.name for p in init.parent.iterdir() if (p / "__init__.py").is_file())
        missing = [r for r in rooms if r not in doc]
        assert doc and not missing, f"{init.relative_to(ROOT)}: docstring does not name {missing}"


def test_the_runner_starts_without_the_heavy_libraries():
    """``python -m leaderboard.runner`` pays for numpy, pandas and pyarrow only when a run needs them."""
    import subprocess
    import sys

    probe = "import sys, leaderboard.runner.cli; print(sorted(m for m in ('numpy', 'pandas', 'pyarrow') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
