"""The xlwings Lite ``main.py``: every business function, self-contained, no roi_xl needed.

xlwings Lite runs Python inside Excel (Pyodide) and can only install packages it finds on a
package index or at a URL, so the module carries everything: the runtime (``lite_runtime.py``,
copied as text) and each function's formula rendered from its definition into calls of that
runtime. It imports nothing but xlwings and numpy, which Lite provides.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

from roi_xl import __version__
from roi_xl.excel import render
from roi_xl.model.functions import FUNCTIONS, BusinessFunction

RUNTIME = Path(__file__).with_name("lite_runtime.py")

REQUIREMENTS = "xlwings\nnumpy\n"
"""Lite's requirements: both come with Lite (numpy from Pyodide); nothing else is needed."""


def _runtime_names(source: str) -> set[str]:
    """Every name the runtime defines or imports at module level, so no parameter hides one."""
    names: set[str] = {"func", "arg", "ARGUMENTS"}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


def _function(function: BusinessFunction, spell: render.Speller) -> str:
    params = [spell(name) for name in function.param_names]
    body = render.calls(function.body, spell)
    decorators = "".join(
        f"@arg({param.name!r}, doc={param.doc!r}, **ARG_OPTIONS)\n" for param in function.params
    )
    return (
        f"def {render.BODY_PREFIX}{function.name}({', '.join(params)}):\n"
        f"    return {body}\n\n\n"
        "@func(category=CATEGORY)\n"
        f"{decorators}"
        f"def {function.name}({', '.join(params)}):\n"
        f"    {function.description!r}\n"
        f"    return call({function.name!r}, {render.BODY_PREFIX}{function.name},"
        f" ARGUMENTS[{function.name!r}], [{', '.join(params)}])\n"
    )


def _arguments(functions: Mapping[str, BusinessFunction]) -> str:
    rows = []
    for function in functions.values():
        items = "".join(
            f"        Argument({function.name!r}, {p.name!r}, {p.doc!r}, {p.kind!r}),\n"
            for p in function.params
        )
        rows.append(f"    {function.name!r}: (\n{items}    ),\n")
    return "ARGUMENTS = {\n" + "".join(rows) + "}\n"


def lite_main(functions: Mapping[str, BusinessFunction] = FUNCTIONS) -> str:
    """The whole ``main.py``: the runtime, then every function rendered from its definition."""
    runtime = RUNTIME.read_text(encoding="utf-8")
    spell = render.speller(_runtime_names(runtime) | set(functions), "python")
    header = (
        f"# roi_xl {__version__}: the business functions for xlwings Lite. Written by\n"
        "# `roi-xl excel setup` from the one definition of each function; to change a formula,\n"
        "# change it in roi_xl and run the setup again rather than editing this file.\n"
        "# Paste this whole file into the main.py tab of the xlwings Lite editor.\n\n"
    )
    generated = "\n\n".join(_function(function, spell) for function in functions.values())
    return (
        f"{header}{runtime}\n\nfrom xlwings import arg, func  # noqa: E402\n\n"
        f"# {'-' * 60} the business functions\n\n"
        f"{_arguments(functions)}\n\n{generated}"
    )
