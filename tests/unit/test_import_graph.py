"""No import cycles inside ``benchmark/``: neither between modules nor between its top-level
folders (``tracks``, ``runner``, ``data``, ...; each top-level module such as ``registry.py`` counts
as a unit of its own). Models (``baselines/``, ``explainrec/``) import no private name of the
harness and nothing above the model layer (tracks, runner, reports, CLI).

The graph is read from the source with ``ast``, so it holds every import a module can execute:
module-level ones and the ones inside functions (a lazy import hides a cycle from Python's
import machinery, not from this test). Imports under ``if TYPE_CHECKING:`` never run and are left
out. ``from pkg import name`` is an edge to ``pkg.name`` when that is a module, else to ``pkg``;
the parent packages Python imports implicitly are not edges.

Run it alone: ``python -m pytest -q tests/unit/test_import_graph.py``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "benchmark"
MODEL_PACKAGES = ("baselines", "explainrec")
#: harness layers above the models: a model importing them would depend on its own evaluation
ABOVE_MODELS = ("benchmark.tracks", "benchmark.runner", "benchmark.report", "benchmark.cli")


def module_files(package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``package`` (packages as ``__init__``)."""
    out = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of every node under an ``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``) block."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skip.update(id(n) for n in ast.walk(child))
    return skip


def imports(name: str, path: Path) -> Iterator[tuple[str, str, int]]:
    """(imported dotted name, the name imported from it or "", line) of each import in a file,
    at any depth (functions included), relative imports made absolute."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skip = _type_checking_nodes(tree)
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, "", node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                yield module, alias.name, node.lineno


def _owner(dotted: str, modules: dict[str, Path]) -> str | None:
    """The longest module name that ``dotted`` starts with (None: outside the package)."""
    parts = dotted.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return None


def module_graph() -> tuple[dict[str, dict[str, str]], dict[str, Path]]:
    """module -> {imported module: "file:line" of the first such import}, inside ``benchmark``."""
    modules = module_files(PACKAGE)
    graph: dict[str, dict[str, str]] = {m: {} for m in modules}
    for name, path in modules.items():
        for module, attr, line in imports(name, path):
            if module != PACKAGE and not module.startswith(PACKAGE + "."):
                continue
            full = f"{module}.{attr}" if attr else module
            target = full if full in modules else _owner(module, modules)
            if target is not None and target != name:
                graph[name].setdefault(target, f"{path.relative_to(ROOT)}:{line}")
    return graph, modules


def unit(module: str) -> str:
    """The top-level folder of ``benchmark`` a module lives in, or the top-level module itself."""
    parts = module.split(".")
    if len(parts) == 1:
        return "benchmark/__init__.py"
    if (ROOT / PACKAGE / parts[1]).is_dir():
        return f"benchmark/{parts[1]}/"
    return f"benchmark/{parts[1]}.py"


def folder_graph(graph: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """unit -> {imported unit: an example import "a -> b (file:line)"}."""
    out: dict[str, dict[str, str]] = {}
    for a, targets in graph.items():
        for b, where in targets.items():
            ua, ub = unit(a), unit(b)
            out.setdefault(ua, {})
            out.setdefault(ub, {})
            if ua != ub:
                out[ua].setdefault(ub, f"{a} -> {b} ({where})")
    return out


def find_cycle(graph: dict[str, dict[str, str]]) -> list[str] | None:
    """One cycle as a closed path [a, b, ..., a], or None when the graph has none."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, {}))))
    return None


def describe(cycle: list[str], graph: dict[str, dict[str, str]]) -> str:
    return "\n".join(f"  {a} -> {b}   [{graph[a][b]}]" for a, b in zip(cycle, cycle[1:]))


def test_no_cycle_between_modules():
    graph, _ = module_graph()
    cycle = find_cycle(graph)
    assert cycle is None, ("import cycle between modules of benchmark/ (function-level imports "
                           "count); move the shared piece into a lower module:\n"
                           + describe(cycle, graph))


def test_no_cycle_between_folders():
    graph = folder_graph(module_graph()[0])
    cycle = find_cycle(graph)
    assert cycle is None, ("import cycle between top-level folders of benchmark/; move the "
                           "shared piece down:\n" + describe(cycle, graph))


def test_models_import_no_private_name_and_nothing_above_them():
    found = []
    for package in MODEL_PACKAGES:
        for name, path in module_files(package).items():
            for module, attr, line in imports(name, path):
                if not module.startswith(PACKAGE + "."):
                    continue
                where = f"{path.relative_to(ROOT)}:{line}"
                full = f"{module}.{attr}" if attr else module
                if attr.startswith("_") or any(p.startswith("_") and not p.startswith("__")
                                               for p in module.split(".")):
                    found.append(f"{where}: private name {full}")
                if any(full == top or full.startswith(top + ".") or full.startswith(top + "_")
                       for top in ABOVE_MODELS):
                    found.append(f"{where}: {full} is above the model layer")
    assert not found, "\n".join(found)


def test_the_checker_sees_function_level_cycles(tmp_path, monkeypatch):
    """The walker itself: a cycle closed only by an import inside a function is found, and
    one under TYPE_CHECKING is not."""
    pkg = tmp_path / PACKAGE
    (pkg / "low").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "low" / "__init__.py").write_text("")
    (pkg / "low" / "a.py").write_text("def f():\n    from benchmark.high import b\n")
    (pkg / "high").mkdir()
    (pkg / "high" / "__init__.py").write_text("")
    (pkg / "high" / "b.py").write_text("from benchmark.low import a\n")
    (pkg / "low" / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                      "    from benchmark.high import b\n")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    graph, _ = module_graph()
    assert graph["benchmark.low.a"] == {"benchmark.high.b": "benchmark/low/a.py:2"}
    assert graph["benchmark.low.c"] == {}
    assert find_cycle(graph) == ["benchmark.high.b", "benchmark.low.a", "benchmark.high.b"]
    folders = folder_graph(graph)
    assert find_cycle(folders) == ["benchmark/high/", "benchmark/low/", "benchmark/high/"]
