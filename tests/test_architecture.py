"""The package's rooms: every module imports alone, no import circle, imports run one way.

The graph is read from the source (every ``import`` and ``from ... import``, at any depth,
under ``TYPE_CHECKING`` too), so a circle hidden inside a function counts as well.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import roi_xl

PACKAGE = Path(roi_xl.__file__).parent

# Each room and the floor it stands on: a module imports from its own floor or below, never
# from above. Shared helpers at the bottom, the model above them, the CLI at the top.
FLOORS = {
    "roi_xl.errors": 0,
    "roi_xl.files": 0,
    "roi_xl.typography": 0,
    "roi_xl.model": 1,
    "roi_xl.locale": 1,
    "roi_xl.overrides": 1,
    "roi_xl.presentation": 1,
    "roi_xl.decide": 2,
    "roi_xl.excel": 2,
    "roi_xl.workbook": 3,
    "roi_xl.inspect": 4,
    "roi_xl.batch": 4,
    "roi_xl.demo": 4,
    "roi_xl.calls": 5,  # an .xlsx call log goes through the package guard first
    "roi_xl.report": 5,
    "roi_xl.rollup": 5,
    "roi_xl.udfs": 6,
    "roi_xl.cli": 7,
    "roi_xl.__main__": 8,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The roi_xl modules ``name`` imports (a package's names resolve to its submodules)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("roi_xl"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            if not base.startswith("roi_xl"):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    return {m for m in found if m in known and m != name}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, set(known)) for name, path in known.items()}


def floor(name: str) -> int:
    if name == "roi_xl":  # the package's face: its version, nothing else
        return 0
    room = next(
        (r for r in sorted(FLOORS, key=len, reverse=True) if name == r or name.startswith(r + ".")),
        None,
    )
    assert room is not None, f"{name} stands in no room: give it a floor in FLOORS"
    return FLOORS[room]


def test_every_module_imports_alone() -> None:
    names = [n for n in modules() if n not in {"roi_xl.__main__"}]
    script = (
        "import importlib, sys\n"
        f"names = {names!r}\n"
        "failed = []\n"
        "for name in names:\n"
        "    for loaded in [m for m in sys.modules if m == 'roi_xl' or m.startswith('roi_xl.')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{name}: {type(exc).__name__}: {exc}')\n"
        "print('\\n'.join(failed))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_no_import_circle() -> None:
    edges = graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                circles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert circles == []


def test_the_walk_finds_a_circle_when_there_is_one(tmp_path: Path) -> None:
    """The graph reader is not blind: two modules that import each other show as edges."""
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("from roi_xl.model import engine\n")
    b.write_text("def f():\n    from roi_xl.model.engine import compute\n")
    known = set(modules())
    assert imports_of("roi_xl.x", a, known) == {"roi_xl.model.engine"}
    assert imports_of("roi_xl.y", b, known) == {"roi_xl.model.engine"}


def test_imports_run_one_way() -> None:
    upward = [
        f"{name} (floor {floor(name)}) imports {target} (floor {floor(target)})"
        for name, targets in graph().items()
        for target in targets
        if floor(target) > floor(name)
    ]
    assert upward == []


def test_the_model_imports_no_capability() -> None:
    allowed = ("roi_xl.model", "roi_xl.errors", "roi_xl.typography")
    outside = {
        (name, target)
        for name, targets in graph().items()
        if name.startswith("roi_xl.model")
        for target in targets
        if not target.startswith(allowed)
    }
    assert outside == set()
