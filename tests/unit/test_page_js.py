"""The page-side JavaScript has one source, ``livekit_pyweb/_static/page_helpers.mjs``: the direct Platform compiles it
into one function (``_page_js.helpers_function_body``, ``_browser._proxies.PageHelper``), and the bridge's page host
imports it (``_static/host.mjs``; ``dist/lkpw-host.mjs`` and the notebook widget carry it inline,
``_page_js.host_module``). Checked with Node (the build's): each form is valid JavaScript and gives the same helpers
and the same host exports. The helpers' behaviour is covered in Chromium by the e2e tests (direct and worker)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from livekit_pyweb import _page_js, jupyter

PACKAGE = Path(__file__).resolve().parents[2] / "livekit_pyweb"
STATIC = PACKAGE / "_static"


def _node(script: str, cwd: Path) -> str:
    node = shutil.which("node")
    assert node, "Node is needed (the build's page-helper and snapshot steps run on it)"
    return subprocess.run([node, "--input-type=module", "-e", script], cwd=cwd, check=True, capture_output=True,
                          text=True, timeout=60).stdout


def test_every_page_helper_python_names_is_exported() -> None:
    names = set(_page_js.helper_names())
    used = set()
    for path in (PACKAGE / "_browser").glob("*.py"):
        used |= set(re.findall(r'PageHelper\("(\w+)"\)', path.read_text()))
    assert used and used <= names, used - names


def test_no_python_module_holds_javascript_source() -> None:
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text()
        assert "js.Function.new(" not in source or path.name == "_proxies.py", path
        assert "JsFunction" not in source, path


def test_the_function_body_gives_every_helper(tmp_path: Path) -> None:
    (tmp_path / "body.js").write_text(_page_js.helpers_function_body())
    out = _node(
        "import fs from 'node:fs';"
        " const h = new Function(fs.readFileSync('body.js', 'utf8'))();"
        " console.log(JSON.stringify({names: Object.keys(h), types: Object.values(h).map((f) => typeof f),"
        " caps: h.capabilities()}));", tmp_path)
    result = json.loads(out)
    assert result["names"] == _page_js.helper_names()
    assert set(result["types"]) == {"function"}
    assert result["caps"]["RTCPeerConnection"] is False  # Node: no WebRTC; the helper ran


def test_the_inlined_host_module_is_the_host_with_its_helpers(tmp_path: Path) -> None:
    composed = _page_js.host_module()
    assert "page_helpers.mjs\";" not in composed
    for name in _page_js.helper_names():
        assert re.search(rf"^(async )?function {name}\(", composed, re.M), name
    (tmp_path / "lkpw-host.mjs").write_text(composed)
    script = ("const a = Object.keys(await import('./lkpw-host.mjs')).sort();"
              f" const b = Object.keys(await import({json.dumps((STATIC / 'host.mjs').as_uri())})).sort();"
              " console.log(JSON.stringify([a, b]));")
    inlined, imported = json.loads(_node(script, tmp_path))
    assert inlined == imported and "startHost" in inlined and "ignore" not in inlined
    assert jupyter.host_esm().startswith(composed)
