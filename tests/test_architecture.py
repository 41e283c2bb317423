"""The house rules of docs/architecture.md: every module of sim/ in a documented layer, no import
circle, no import of a layer above one's own, no module over about 500 lines without a reason.

Imports are read from the source (``ast``), all of them: at the top, inside functions and under
``TYPE_CHECKING`` (a type is a dependency too), and module paths written as strings
(``"sim.app.page"`` for Solara, the fork server's preload list).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "architecture.md"
MAX_LINES = 500
REASON = "Longer than 500 lines because"
MODULE_STRING = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+$")  # a.b.c


def modules(root: Path) -> dict[str, Path]:
    """Dotted name -> file, for every module under ``root`` (a package folder)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of ``known`` that module ``name`` imports (``from a import b`` is a.b when that
    is a module, a otherwise), however and wherever it imports them."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top = name.split(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                child = f"{source}.{alias.name}"
                found.add(child if child in known else source)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and MODULE_STRING.match(node.value) and node.value.split(".")[0] == top:
            found.add(node.value)
    resolved = set()
    for target in found:  # `import sim.a.b` depends on sim.a.b; a missing tail on its package
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            resolved.add(target)
    return resolved


def graph(root: Path) -> dict[str, set[str]]:
    known = modules(root)
    return {name: imports(name, path, known) for name, path in known.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def documented_layers(text: str) -> list[tuple[int, str, list[str]]]:
    """(number, name, places) of each row of the layer table: a place is a folder (``a.b.``:
    every module under it) or a file (``a.b``: that module)."""
    rows = []
    for line in text.splitlines():
        m = re.match(r"^\| (\d+) \| ([a-z]+) \| (.+?) \|", line)
        if m:
            paths = re.findall(r"`([^`]+)`", m.group(3))
            places = [p.replace("/", ".") if p.endswith("/") else
                      p.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
                      for p in paths]
            rows.append((int(m.group(1)), m.group(2), places))
    return rows


def layer_of(module: str, layers: list[tuple[int, str, list[str]]]) -> int | None:
    """The layer whose folder holds ``module`` (the innermost such folder), or whose file it is."""
    best, length = None, -1
    for number, _, places in layers:
        for place in places:
            inside = (module + ".").startswith(place) if place.endswith(".") else module == place
            if inside and len(place) > length:
                best, length = number, len(place)
    return best


def upward(edges: dict[str, set[str]], layers) -> list[str]:
    return sorted(f"{a} (layer {layer_of(a, layers)}) imports {b} (layer {layer_of(b, layers)})"
                  for a, targets in edges.items() for b in targets
                  if layer_of(b, layers) > layer_of(a, layers))


@pytest.fixture(scope="module")
def layers():
    found = documented_layers(DOC.read_text())
    assert [n for n, _, _ in found] == list(range(1, len(found) + 1)), "layers numbered 1, 2, ..."
    return found


@pytest.fixture(scope="module")
def edges():
    return graph(REPO / "sim")


def test_every_module_of_sim_is_in_a_documented_layer(edges, layers):
    assert len(edges) > 50  # the reader found the package
    assert [m for m in sorted(edges) if layer_of(m, layers) is None] == []


def test_sim_has_no_import_circle(edges):
    assert circles(edges) == []


def test_no_module_imports_a_layer_above_its_own(edges, layers):
    assert upward(edges, layers) == []


def test_no_module_is_longer_than_500_lines_without_saying_why():
    long = []
    for name, path in modules(REPO / "sim").items():
        lines = len(path.read_text().splitlines())
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        if lines > MAX_LINES and REASON not in doc:
            long.append(f"{name}: {lines} lines")
    assert long == []


# --- the guard itself, on a package made to break each rule ------------------------------------

def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


def test_the_guard_finds_a_circle_through_a_function_body_and_type_checking(tmp_path):
    pkg = write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/low/__init__.py": "",
        "pkg/low/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                        "    from pkg.high.b import B\n",
        "pkg/high/__init__.py": "",
        "pkg/high/b.py": "def f():\n    from pkg.low import a\n",
        "pkg/high/c.py": "import pkg.high.b\n",
    })
    edges = graph(pkg)
    assert edges["pkg.high.c"] == {"pkg.high.b"}
    assert circles(edges) == [["pkg.high.b", "pkg.low.a"]]


def test_the_guard_finds_an_upward_import_written_as_a_string(tmp_path):
    pkg = write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/low/__init__.py": "",
        "pkg/low/a.py": "RUN = ['python', '-m', 'pkg.high.b']\nWORDS = 'pkg.high is above'\n",
        "pkg/high/__init__.py": "",
        "pkg/high/b.py": "from pkg.low.a import RUN\n",
    })
    table = documented_layers("| 1 | low | `pkg/low/` | x |\n| 2 | high | `pkg/high/`, "
                              "`pkg/__init__.py` | y |\n")
    assert upward(graph(pkg), table) == ["pkg.low.a (layer 1) imports pkg.high.b (layer 2)"]
