"""The page-side JavaScript, one source for every way Python reaches the page: ``_static/page_helpers.mjs`` (package
data, read next to this file where the package is installed: Pyodide's file system on a page, the source tree).

* The direct Platform (``_browser``, Python on the main thread) compiles :func:`helpers_function_body` once, at its
  first use (``_browser._proxies.PageHelper``): no ``import()``, so no URL to find in any host.
* The worker bridge's page host ``_static/host.mjs`` imports the helpers; :func:`host_module` puts their text in
  place of that import, the self-contained module served as ``dist/lkpw-host.mjs`` (build/build_dist.py) and as the
  notebook widget's front end (``jupyter.host_esm``).

Pure text work, no ``js`` and no other import of the package: also runs on CPython (the unit tests, and the build,
which runs this file alone).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_EXPORT = re.compile(r"^export (?=(?:async )?function )", re.M)
_NAME = re.compile(r"^export (?:async )?function (\w+)\(", re.M)
_IMPORT = re.compile(r'^import \{[^}]*\} from "\./page_helpers\.mjs";\n', re.M)


def _static(name: str) -> str:
    return (Path(__file__).parent / "_static" / name).read_text(encoding="utf-8")


@cache
def helpers_source() -> str:
    """``page_helpers.mjs`` as shipped (an ES module of ``export function`` declarations)."""
    return _static("page_helpers.mjs")


def helper_names() -> list[str]:
    """The helpers ``page_helpers.mjs`` exports, in file order."""
    return _NAME.findall(helpers_source())


def _declarations() -> str:
    return _EXPORT.sub("", helpers_source())


def helpers_function_body() -> str:
    """The body of a JS function returning ``{name: helper, ...}``: the module's declarations, strict as a module."""
    return '"use strict";\n' + _declarations() + "\nreturn { " + ", ".join(helper_names()) + " };\n"


def host_module() -> str:
    """``host.mjs`` with the helpers' declarations in place of its ``import ... from "./page_helpers.mjs"``."""
    host = _static("host.mjs")
    if len(_IMPORT.findall(host)) != 1:
        raise RuntimeError('host.mjs must import its helpers in one line: import { ... } from "./page_helpers.mjs";')
    return _IMPORT.sub(lambda _m: _declarations(), host, count=1)
