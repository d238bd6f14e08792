"""The build's Pyodide memory snapshot (build/make_snapshot.mjs) imports the room's modules on Node; Pyodide 314
cannot put a JS object made at import into a snapshot ("Can't serialize object"), and the build then ships no
snapshot (every page boots seconds slower; tests/e2e/test_boot.py fails). So no module of the package may call into
`js` at import: a shared JS helper is a `_browser._proxies.PageHelper` (the page helpers are compiled on first use)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "livekit_pyweb"


def _calls_js(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            target = sub.func
            while isinstance(target, ast.Attribute):
                target = target.value
            if isinstance(target, ast.Name) and target.id == "js":
                return True
    return False


def test_no_module_calls_js_at_import() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for stmt in ast.parse(path.read_text()).body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if _calls_js(stmt):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{stmt.lineno}")
    assert offenders == [], (
        "module-level calls into js (make them on first use, e.g. _browser._proxies.PageHelper): "
        + ", ".join(offenders))
