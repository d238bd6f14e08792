#!/usr/bin/env python3
"""Build dist/: an offline Pyodide distribution with our wheel, servable from any static HTTP server.

Run with the dev venv's Python (it needs pip, and `build` + setuptools from build/requirements-build.txt):

    /root/.cache/livekit-pyweb/venv/bin/python build/build_dist.py

dist/ then holds
  * the Pyodide core from node_modules/pyodide (npm install / npm ci is run first if needed),
  * pure wheels from PyPI: the roots in build/requirements-pyodide.txt plus the dependency closure of their
    metadata (downloads are cached in ~/.cache/livekit-pyweb/wheels, so reruns need no network),
  * our own wheel, rebuilt from the working tree on every run,
  * a pruned pyodide-lock.json naming exactly the wheels in dist/ (real sha256, imports, depends), so
    `pyodide.loadPackage("livekit-pyweb")` pulls livekit-protocol and protobuf from dist/,
  * web/* copied as-is, and livekit-client's UMD bundle as livekit-client.umd.js,
  * the worker bridge's page host livekit_pyweb/_static/host.mjs as lkpw-host.mjs (with the page helpers it
    imports, _static/page_helpers.mjs, in place of the import: livekit_pyweb/_page_js.py host_module()),
  * PyScript's core (npm @pyscript/core, its dist/ without source maps) in dist/pyscript/, for the pages in
    web/pyscript/ (their config points the interpreter at our /loader.mjs: no CDN),
  * a Pyodide memory snapshot with livekit_pyweb and the protocol modules imported (build/make_snapshot.mjs, run
    with Node: lkpw-snapshot-<hash>.bin gzipped + its manifest lkpw-snapshot.json), which web/loader.mjs restores
    instead of booting Python and importing; cached in ~/.cache/livekit-pyweb/snapshots by a hash of its inputs.
    `--no-snapshot` (or LKPW_SNAPSHOT=0) leaves it out: the loader then boots normally.

The stock lock's 357 entries point at a CDN this project cannot reach and its sha256 values never match PyPI
wheels, so it is not shipped. `depends` are taken from each wheel's own Requires-Dist, not from the stock lock
(the stock pytest entry lists setuptools, py, six, atomicwrites ... that pytest 9 does not use, and omits
packaging, which it does).

Standard library only. Idempotent: dist/ is assembled in a temporary folder, then replaces the old dist/ whole.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from email.parser import HeaderParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
PYODIDE_NPM = NODE_MODULES / "pyodide"
LIVEKIT_CLIENT_NPM = NODE_MODULES / "livekit-client"
PYSCRIPT_NPM = NODE_MODULES / "@pyscript" / "core"
PYSCRIPT_DIR = "pyscript"  # dist/pyscript/: PyScript's core.js, core.css and the chunks they import
PINS_FILE = ROOT / "build" / "requirements-pyodide.txt"
BUILD_REQS_FILE = ROOT / "build" / "requirements-build.txt"
WEB_DIR = ROOT / "web"
DEFAULT_DIST = ROOT / "dist"
DEFAULT_CACHE = Path.home() / ".cache" / "livekit-pyweb" / "wheels"
SNAPSHOT_CACHE = Path.home() / ".cache" / "livekit-pyweb" / "snapshots"
SNAPSHOT_SCRIPT = ROOT / "build" / "make_snapshot.mjs"
SNAPSHOT_MANIFEST = "lkpw-snapshot.json"

OWN_PACKAGE = "livekit-pyweb"
# Files of the source tree that go into the temporary copy our wheel is built from (building in place would
# write setuptools' build/lib, build/bdist.* into this repo's build/ folder).
OWN_SOURCE_FILES = ("pyproject.toml", "setup.py", "setup.cfg", "MANIFEST.in")
OWN_SOURCE_GLOBS = ("README*", "LICENSE*", "NOTICE*")
OWN_PACKAGE_DIRS = ("livekit_pyweb",)

# Pyodide core: everything pyodide.mjs / pyodide.js fetch to boot (pyodide-lock.json is written by us).
CORE_REQUIRED = ("pyodide.mjs", "pyodide.js", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip")
CORE_OPTIONAL_GLOBS = ("pyodide.asm.js", "pyodide.mjs.map", "pyodide.js.map", "pyodide.d.ts", "ffi.d.ts")
UMD_CANDIDATES = ("livekit-client.umd.js", "livekit-client.umd.cjs", "livekit-client.umd.min.js")

# Fixed zip timestamps for our wheel: the same sources give the same sha256 (browser caches stay valid).
SOURCE_DATE_EPOCH = "315532800"

T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[{time.monotonic() - T0:6.2f}s] {msg}", flush=True)


def die(msg: str) -> None:
    print(f"build_dist: error: {msg}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        print(proc.stdout, file=sys.stderr)
        die(f"command failed ({proc.returncode}): {' '.join(cmd)}")
    return proc.stdout


def normalize(name: str) -> str:
    """PEP 503 name normalisation: `Foo_Bar.baz` -> `foo-bar-baz`."""
    return re.sub(r"[-_.]+", "-", name).lower()


# --------------------------------------------------------------------------- versions, specifiers, markers
# Small PEP 440 / PEP 508 subset, enough for the Requires-Dist lines of pure wheels (stdlib only, no packaging).

_VERSION_RE = re.compile(
    r"^\s*v?(?:(\d+)!)?(\d+(?:\.\d+)*)"
    r"(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d*))?"
    r"(?:(?:-(\d+))|(?:[-_.]?(post|rev|r)[-_.]?(\d*)))?"
    r"(?:[-_.]?(dev)[-_.]?(\d*))?"
    r"(?:\+[a-z0-9.]+)?\s*$",
    re.I,
)


def version_key(v: str) -> tuple:
    m = _VERSION_RE.match(v)
    if not m:
        raise ValueError(f"unsupported version {v!r}")
    epoch, rel, pre_l, pre_n, post_implicit, post_l, post_n, dev_l, dev_n = m.groups()
    release = tuple(int(x) for x in rel.split("."))
    while len(release) > 1 and release[-1] == 0:
        release = release[:-1]
    pre_rank = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}
    if pre_l:
        pre = (0, pre_rank[pre_l.lower()], int(pre_n or 0))
    elif dev_l and not (post_l or post_implicit):
        pre = (-1, 0, 0)  # 1.0.dev1 sorts before 1.0a1
    else:
        pre = (1, 0, 0)
    post = int(post_implicit) if post_implicit else (int(post_n or 0) if post_l else -1)
    dev = int(dev_n or 0) if dev_l else float("inf")
    return (int(epoch or 0), release, pre, post, dev)


def _release(v: str) -> list[int]:
    return [int(x) for x in re.match(r"^\s*v?(?:\d+!)?(\d+(?:\.\d+)*)", v).group(1).split(".")]


def satisfies(version: str, specifier: str) -> bool:
    """True if `version` satisfies every clause of a PEP 440 specifier such as `>=1.5,<2`."""
    for clause in filter(None, (c.strip() for c in specifier.split(","))):
        m = re.match(r"^(===|==|!=|~=|<=|>=|<|>)\s*(\S+)$", clause)
        if not m:
            raise ValueError(f"unsupported specifier {clause!r}")
        op, want = m.groups()
        if op == "===":
            ok = version == want
        elif op in ("==", "!=") and want.endswith(".*"):
            prefix = _release(want[:-2])
            have = _release(version) + [0] * len(prefix)
            ok = (have[: len(prefix)] == prefix) == (op == "==")
        elif op == "~=":
            prefix = _release(want)[:-1]
            ok = version_key(version) >= version_key(want) and _release(version)[: len(prefix)] == prefix
        else:
            a, b = version_key(version), version_key(want)
            ok = {"==": a == b, "!=": a != b, "<=": a <= b, ">=": a >= b, "<": a < b, ">": a > b}[op]
        if not ok:
            return False
    return True


_MARKER_TOKEN = re.compile(
    r"\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<op>===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b)|(?P<bool>and\b|or\b)"
    r"|(?P<str>'[^']*'|\"[^\"]*\")|(?P<var>[A-Za-z_][A-Za-z0-9_.]*))"
)
_VERSION_VARS = {"python_version", "python_full_version", "implementation_version"}


def eval_marker(marker: str, env: dict[str, str | None]) -> bool:
    """Evaluate a PEP 508 environment marker. `extra` is None in env: any `extra == ...` clause is false."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    marker = marker.strip()
    while pos < len(marker):
        m = _MARKER_TOKEN.match(marker, pos)
        if not m or m.end() == pos:
            raise ValueError(f"cannot parse marker {marker!r}")
        kind = m.lastgroup
        tokens.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(marker) and marker[pos].isspace():
            pos += 1
    i = 0

    def peek() -> tuple[str, str] | None:
        return tokens[i] if i < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal i
        if i >= len(tokens):
            raise ValueError(f"truncated marker {marker!r}")
        i += 1
        return tokens[i - 1]

    def value() -> tuple[str | None, bool]:
        kind, text = take()
        if kind == "str":
            return text[1:-1], False
        if kind == "var":
            name = text.replace(".", "_")
            if name not in env:
                raise ValueError(f"unknown marker variable {text!r} in {marker!r}")
            return env[name], name in _VERSION_VARS
        raise ValueError(f"unexpected {text!r} in marker {marker!r}")

    def compare() -> bool:
        if peek() and peek()[0] == "lp":
            take()
            r = disjunction()
            if take()[0] != "rp":
                raise ValueError(f"unbalanced marker {marker!r}")
            return r
        (lhs, lver), (kind, op), (rhs, rver) = value(), take(), value()
        if kind != "op":
            raise ValueError(f"expected an operator in marker {marker!r}")
        op = " ".join(op.split())
        if lhs is None or rhs is None:  # `extra` with no extra requested
            return False
        if op == "in":
            return lhs in rhs
        if op == "not in":
            return lhs not in rhs
        if lver or rver:
            try:
                return satisfies(lhs, f"{op}{rhs}")
            except ValueError:
                pass
        if op == "==":
            return lhs == rhs
        if op == "!=":
            return lhs != rhs
        raise ValueError(f"cannot compare {lhs!r} {op} {rhs!r} in marker {marker!r}")

    def conjunction() -> bool:
        r = compare()
        while peek() == ("bool", "and"):
            take()
            r = compare() and r
        return r

    def disjunction() -> bool:
        r = conjunction()
        while peek() == ("bool", "or"):
            take()
            r = conjunction() or r
        return r

    result = disjunction()
    if i != len(tokens):
        raise ValueError(f"trailing tokens in marker {marker!r}")
    return result


def pyodide_marker_env(python_full: str) -> dict[str, str | None]:
    major_minor = ".".join(python_full.split(".")[:2])
    return {
        "python_version": major_minor,
        "python_full_version": python_full,
        "implementation_version": python_full,
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "os_name": "posix",
        "sys_platform": "emscripten",
        "platform_system": "Emscripten",
        "platform_machine": "wasm32",
        "platform_release": "",
        "platform_version": "",
        "extra": None,
    }


def parse_requirement(line: str) -> tuple[str, str, str]:
    """`name[extras] (spec) ; marker` -> (normalized name, spec, marker)."""
    req, _, marker = line.partition(";")
    m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*?)\s*$", req)
    if not m:
        raise ValueError(f"cannot parse requirement {line!r}")
    name, spec = m.groups()
    if spec.startswith("@"):
        raise ValueError(f"direct-URL requirement not supported: {line!r}")
    spec = spec.strip().removeprefix("(").removesuffix(")").replace(" ", "")
    return normalize(name), spec, marker.strip()


# --------------------------------------------------------------------------- wheels


def parse_wheel_name(filename: str) -> tuple[str, str, str]:
    """`name-ver(-build)?-py-abi-plat.whl` -> (normalized name, version, "py-abi-plat")."""
    parts = filename[: -len(".whl")].split("-")
    if len(parts) not in (5, 6):
        raise ValueError(f"not a wheel file name: {filename}")
    return normalize(parts[0]), parts[1], "-".join(parts[-3:])


def is_pure(tag: str) -> bool:
    pys, abi, plat = tag.split("-")
    return abi == "none" and plat == "any" and all(p.startswith("py") for p in pys.split("."))


def wheel_metadata(path: Path) -> tuple[dict, list[str], list[str]]:
    """(metadata headers, Requires-Dist lines, import names) of a wheel."""
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        meta_name = next(n for n in names if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
        meta = HeaderParser().parsestr(zf.read(meta_name).decode("utf-8"))
        top_level_name = meta_name.rsplit("/", 1)[0] + "/top_level.txt"
        if top_level_name in names:
            tops = zf.read(top_level_name).decode().split()
        else:
            tops = set()
            for n in names:
                first = n.split("/", 1)[0]
                if first.endswith((".dist-info", ".data")):
                    continue
                if "/" in n:
                    tops.add(first)
                elif n.endswith(".py"):
                    tops.add(n[:-3])
            tops = sorted(tops)
    imports = sorted({t for t in tops if t.isidentifier()})
    return meta, meta.get_all("Requires-Dist") or [], imports


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def find_cached(cache: Path, name: str, version: str) -> Path | None:
    for f in sorted(cache.glob("*.whl")):
        try:
            n, v, tag = parse_wheel_name(f.name)
        except ValueError:
            continue
        if n == name and v == version and is_pure(tag):
            return f
    return None


def fetch_wheel(cache: Path, name: str, version: str, py_version: str) -> tuple[Path, bool]:
    """Pure wheel for name==version: from the cache, else PyPI (`pip download`), else built from the sdist."""
    hit = find_cached(cache, name, version)
    if hit:
        return hit, False
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    cmd = pip + ["download", "--only-binary=:all:", "--platform", "any", "--implementation", "py",
                 "--python-version", py_version, "--no-deps", "-q", "-d", str(cache), f"{name}=={version}"]
    proc = subprocess.run(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        log(f"  {name}=={version}: no pure wheel on PyPI, building one from the sdist (pip wheel)")
        run(pip + ["wheel", "--no-deps", "--no-binary", name, "-q", "-w", str(cache), f"{name}=={version}"])
    hit = find_cached(cache, name, version)
    if not hit:
        die(f"no py*-none-any wheel for {name}=={version} (pip output: {proc.stdout.strip()[-500:]})")
    return hit, True


# --------------------------------------------------------------------------- steps


def ensure_node_modules() -> None:
    pkg = json.loads((ROOT / "package.json").read_text())
    wanted = pkg.get("devDependencies", {})
    stale = []
    for dep, ver in wanted.items():
        p = NODE_MODULES / dep / "package.json"
        have = json.loads(p.read_text()).get("version") if p.exists() else None
        if have != ver:
            stale.append(f"{dep} {have or 'missing'} (want {ver})")
    if not stale:
        log(f"node_modules ok: {', '.join(f'{k}@{v}' for k, v in wanted.items())}")
        return
    npm = shutil.which("npm") or die("npm not found on PATH")
    cmd = [npm, "ci" if (ROOT / "package-lock.json").exists() else "install", "--no-audit", "--no-fund"]
    log(f"node_modules stale ({'; '.join(stale)}): running {' '.join(cmd[1:])}")
    run(cmd, cwd=ROOT)


def read_pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw in PINS_FILE.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*(\S+)$", line)
        if not m:
            die(f"{PINS_FILE.name}: expected name==version, got {raw!r}")
        pins[normalize(m.group(1))] = m.group(2)
    return pins


def build_own_wheel(out: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="lkpw-src-") as tmp:
        src = Path(tmp)
        for f in OWN_SOURCE_FILES:
            if (ROOT / f).exists():
                shutil.copy2(ROOT / f, src / f)
        for pattern in OWN_SOURCE_GLOBS:
            for f in ROOT.glob(pattern):
                if f.is_file():
                    shutil.copy2(f, src / f.name)
        for d in OWN_PACKAGE_DIRS:
            shutil.copytree(ROOT / d, src / d, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        env = dict(os.environ, SOURCE_DATE_EPOCH=SOURCE_DATE_EPOCH)
        cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(src)]
        proc = subprocess.run(cmd, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            print(proc.stdout[-4000:], file=sys.stderr)
            die(f"building our wheel failed; are the build tools installed? "
                f"{sys.executable} -m pip install -r {BUILD_REQS_FILE.relative_to(ROOT)}")
    wheels = sorted(out.glob("*.whl"))
    if len(wheels) != 1:
        die(f"expected one wheel from the build, got {[w.name for w in wheels]}")
    name, _, tag = parse_wheel_name(wheels[0].name)
    if name != OWN_PACKAGE or tag != "py3-none-any":
        die(f"our wheel must be {OWN_PACKAGE} py3-none-any, got {wheels[0].name}")
    return wheels[0]


def copy_core(stage: Path) -> list[str]:
    copied = []
    for f in CORE_REQUIRED:
        if not (PYODIDE_NPM / f).exists():
            die(f"node_modules/pyodide/{f} missing")
        shutil.copy2(PYODIDE_NPM / f, stage / f)
        copied.append(f)
    for f in CORE_OPTIONAL_GLOBS:
        for p in PYODIDE_NPM.glob(f):
            shutil.copy2(p, stage / p.name)
            copied.append(p.name)
    return copied


def copy_umd(stage: Path) -> str:
    dist = LIVEKIT_CLIENT_NPM / "dist"
    for c in UMD_CANDIDATES:
        if (dist / c).exists():
            shutil.copy2(dist / c, stage / "livekit-client.umd.js")
            return c
    found = sorted(p.name for p in dist.glob("*umd*"))
    die(f"no UMD bundle in node_modules/livekit-client/dist (saw {found})")


def copy_pyscript(stage: Path) -> list[str]:
    """@pyscript/core's dist/ into stage/pyscript/ (source maps left out); returns the paths relative to stage.

    core.js imports its chunks relatively, so the folder is copied flat as published. It would fetch Pyodide from a
    CDN by default: the pages' config sets ``interpreter = "/loader.mjs"`` (our loader, which exports loadPyodide and
    boots from the snapshot; absolute: in a worker a relative path resolves against the config file, not the page).
    """
    src = PYSCRIPT_NPM / "dist"
    if not (src / "core.js").is_file():
        die("node_modules/@pyscript/core/dist/core.js missing (npm ci)")
    out = stage / PYSCRIPT_DIR
    out.mkdir()
    copied = []
    for p in sorted(src.iterdir()):
        if p.is_file() and not p.name.endswith(".map"):
            shutil.copy2(p, out / p.name)
            copied.append(f"{PYSCRIPT_DIR}/{p.name}")
    return copied


def copy_web(stage: Path, generated: set[str]) -> int:
    if not WEB_DIR.is_dir():
        return 0
    n = 0
    for p in sorted(WEB_DIR.rglob("*")):
        if p.is_dir() or "__pycache__" in p.parts:
            continue
        rel = p.relative_to(WEB_DIR)
        if rel.as_posix() in generated:
            die(f"web/{rel} would overwrite the generated dist/{rel}; rename it")
        (stage / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, stage / rel)
        n += 1
    return n


SNAPSHOT_ERROR = "lkpw-snapshot-error.txt"


def make_snapshot(stage: Path, wheels: dict[str, Path]) -> str:
    """Run build/make_snapshot.mjs on the stage (or reuse a cached result for the same inputs); returns a summary.

    When it fails (say a module imported by web/snapshot_imports.py makes a JS object at import: "Can't serialize
    object"), the dist is still built, without a snapshot: the loader then boots normally and says so, the error is
    kept in dist/lkpw-snapshot-error.txt, and tests/e2e/test_boot.py fails showing it."""
    key = hashlib.sha256()
    inputs = [SNAPSHOT_SCRIPT, stage / "snapshot_imports.py", stage / "pyodide-lock.json"]
    inputs += [stage / f for f in CORE_REQUIRED] + [stage / p.name for p in wheels.values()]
    for f in inputs:
        key.update(f.name.encode() + b"\0" + sha256(f).encode())
    cached = SNAPSHOT_CACHE / key.hexdigest()[:32]
    if not (cached / SNAPSHOT_MANIFEST).is_file():
        node = shutil.which("node") or die("node not found on PATH (needed for the Pyodide snapshot)")
        tmp = Path(tempfile.mkdtemp(prefix="lkpw-snapshot-"))
        try:
            proc = subprocess.run([node, str(SNAPSHOT_SCRIPT), str(stage)], text=True, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
            if proc.returncode != 0:
                # Pyodide's errors print its minified source first: keep the lines that say something.
                lines = [ln.strip()[-400:] for ln in proc.stdout.splitlines() if ln.strip()]
                (stage / SNAPSHOT_ERROR).write_text("\n".join(lines[-30:]) + "\n")
                for f in stage.glob("lkpw-snapshot*"):
                    if f.name != SNAPSHOT_ERROR:
                        f.unlink()
                print("\n".join(lines[-30:]), file=sys.stderr, flush=True)
                return f"SNAPSHOT FAILED (dist/{SNAPSHOT_ERROR}); the loader will boot Pyodide normally"
            print(proc.stdout.rstrip(), flush=True)
            cached.mkdir(parents=True, exist_ok=True)
            manifest = json.loads((stage / SNAPSHOT_MANIFEST).read_text())
            zstd_copy(stage / manifest["file"])
            for f in (manifest["file"], manifest["file"] + ZSTD_SUFFIX, SNAPSHOT_MANIFEST):
                shutil.copy2(stage / f, tmp / f)
            for f in tmp.iterdir():
                shutil.move(str(f), cached / f.name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        how = "made"
    else:
        manifest = json.loads((cached / SNAPSHOT_MANIFEST).read_text())
        if not zstd_checked(cached / (manifest["file"] + ZSTD_SUFFIX)):  # cached by an earlier build, or without
            zstd_copy(cached / manifest["file"])                           # the checksum
        for f in (manifest["file"], manifest["file"] + ZSTD_SUFFIX, SNAPSHOT_MANIFEST):
            shutil.copy2(cached / f, stage / f)
        how = f"reused from {cached}"
    zstd_bytes = (stage / (manifest["file"] + ZSTD_SUFFIX)).stat().st_size
    return (f"snapshot {manifest['file']} ({manifest['bytes'] / 1e6:.1f} MB, {manifest['gzipBytes'] / 1e6:.1f} MB "
            f"gzipped, {zstd_bytes / 1e6:.1f} MB as zstd, {manifest['modules']} modules) {how}")


ZSTD_SUFFIX = ".zst"
ZSTD_LEVEL = 19


def zstd_checked(path: Path) -> bool:
    """Whether `path` is a zstd frame that carries its content checksum (frame header descriptor, bit 2)."""
    if not path.is_file():
        return False
    with path.open("rb") as f:
        head = f.read(5)
    return len(head) == 5 and head[:4] == b"\x28\xb5\x2f\xfd" and bool(head[4] & 0x04)


def zstd_copy(gz: Path) -> None:
    """Write ``<snapshot>.bin.zst`` beside the gzip file: the same bytes (memory + files), zstd-compressed, for
    servers to send as ``Content-Encoding: zstd`` to browsers that take it (build/demo.py, the tests' server). The
    browser decodes it in its network process, ~4x faster than gzip (measured on the 48 MB: ~75 ms of CPU against
    ~315 ms) and off the page's thread; the gzip file stays for every other server and browser (web/loader.mjs
    gunzips it itself when it comes without a Content-Encoding)."""
    import gzip

    import zstandard  # build/requirements-build.txt

    raw = gzip.decompress(gz.read_bytes())
    # With its checksum (XXH64 of the content, which the browser's decoder checks at the end of the frame): without
    # it a damaged copy can decode to the right length and restore a broken interpreter (measured: test_boot.py's
    # damaged copy booted to "TypeError: unsupported operand type(s) for +: 'dict' and 'cell'").
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=-1, write_checksum=True)
    tmp = gz.with_name(gz.name + ZSTD_SUFFIX + ".tmp")
    tmp.write_bytes(compressor.compress(raw))
    tmp.replace(gz.with_name(gz.name + ZSTD_SUFFIX))


PRELOAD_MARK = re.compile(r"<!-- lkpw:snapshot-preload .*?-->")


def preload_snapshot(stage: Path) -> str:
    """Pages of web/ holding the mark ``<!-- lkpw:snapshot-preload ... -->`` (index.html) get, in its place, a small
    script that adds a ``<link rel="preload" as="fetch" crossorigin>`` of this build's content-named snapshot unless
    the origin's Cache Storage already holds it gunzipped (web/loader.mjs reads that copy instead; preloading the file
    then would only make the browser decode and hand over 48 MB nobody reads). The browser then starts fetching the
    snapshot as the page is parsed, not once loader.mjs, pyodide.mjs and the manifest have come; web/loader.mjs's
    fetch of the same URL takes the preloaded response. Removed when the build has no snapshot. Measured with a plain
    link, same-run A/B, 5 rounds: cold navigation -> SDK usable 1299 -> 1009 ms, -> first remote frame 1828 -> 1567
    ms."""
    manifest = stage / SNAPSHOT_MANIFEST
    snapshot = json.loads(manifest.read_text())["file"] if manifest.is_file() else None
    pages = []
    for page in sorted(stage.rglob("*.html")):
        text = page.read_text()
        if not PRELOAD_MARK.search(text):
            continue
        script = ""
        if snapshot:
            href = os.path.relpath(stage / snapshot, page.parent).replace(os.sep, "/")
            # The key is web/loader.mjs's rawKey(): the file's URL + "?gunzipped" in the cache RAW_CACHE.
            script = (
                "<script>(async (href) => { try { const c = await caches.open(\"livekit-pyweb-snapshot\"); "
                "if (await c.match(new URL(href + \"?gunzipped\", location.href).href)) return; } catch {} "
                "const link = Object.assign(document.createElement(\"link\"), "
                "{ rel: \"preload\", as: \"fetch\", crossOrigin: \"anonymous\", href }); "
                f"document.head.append(link); }})({json.dumps(href)});</script>")
        page.write_text(PRELOAD_MARK.sub(lambda _m: script, text))
        pages.append(page.relative_to(stage).as_posix())
    return f"snapshot preload in {', '.join(pages) or 'no page'}" + ("" if snapshot else " (removed: no snapshot)")


WASM_DIR_PREFIX = "lkpw-wasm-"


def wasm_by_content(stage: Path) -> str:
    """A content-named copy of the Pyodide wasm (a hard link: no extra bytes on disk), named in the snapshot's manifest
    (``wasmDir``): the loader boots from it, and servers send a content-named file with ``immutable`` caching.

    Why: Chromium keeps V8's compiled code of a streamed wasm module (its functions already tiered up to TurboFan) in
    its code cache and reuses it on the next visit, but only when the response there is the HTTP cache's own, not a
    revalidated one (a 304 gives it a new response time, and the code cache entry no longer matches: measured with
    bench/trace_boot.py, ``v8.wasm.moduleCacheHit`` on the next visit only with ``immutable``). With the hit, the ~1,950
    wasm functions a visit runs are not lazily compiled again on the main thread (~250 ms of ``wasm.CompileLazy``)."""
    wasm = stage / "pyodide.asm.wasm"
    folder = stage / f"{WASM_DIR_PREFIX}{sha256(wasm)[:16]}"
    folder.mkdir()
    try:
        os.link(wasm, folder / wasm.name)
    except OSError:
        shutil.copy2(wasm, folder / wasm.name)
    manifest_path = stage / SNAPSHOT_MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["wasmDir"] = folder.name + "/"
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return f"content-named wasm for V8's code cache: {folder.name}/{wasm.name}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dist", type=Path, default=DEFAULT_DIST, help="output folder (default: %(default)s)")
    ap.add_argument("--wheel-cache", type=Path, default=DEFAULT_CACHE, help="PyPI wheel cache (default: %(default)s)")
    ap.add_argument("--no-snapshot", action="store_true", default=os.environ.get("LKPW_SNAPSHOT") == "0",
                    help="leave out the Pyodide memory snapshot (also LKPW_SNAPSHOT=0)")
    args = ap.parse_args()
    dist: Path = args.dist.resolve()
    cache: Path = args.wheel_cache.expanduser().resolve()
    cache.mkdir(parents=True, exist_ok=True)

    ensure_node_modules()
    stock = json.loads((PYODIDE_NPM / "pyodide-lock.json").read_text())
    stock_pkgs: dict[str, dict] = {normalize(k): v for k, v in stock["packages"].items()}
    python_full = stock["info"]["python"]
    py_version = ".".join(python_full.split(".")[:2])
    env = pyodide_marker_env(python_full)
    log(f"Pyodide {json.loads((PYODIDE_NPM / 'package.json').read_text())['version']} (Python {python_full}); "
        f"stock lock has {len(stock_pkgs)} packages")

    stage = Path(tempfile.mkdtemp(prefix="livekit-pyweb-dist-"))
    stage.chmod(0o755)
    try:
        t = time.monotonic()
        own = build_own_wheel(stage)
        log(f"built {own.name} ({time.monotonic() - t:.2f}s)")

        pins = read_pins()

        def pick_version(name: str, wanted_by: str) -> str:
            if name in pins:
                return pins[name]
            if name in stock_pkgs:
                return stock_pkgs[name]["version"]
            die(f"{name} (needed by {wanted_by}) is neither pinned in {PINS_FILE.name} nor in the stock lock")

        # Resolve the closure breadth-first over wheel metadata.
        t = time.monotonic()
        wheels: dict[str, Path] = {OWN_PACKAGE: own}
        versions: dict[str, str] = {OWN_PACKAGE: parse_wheel_name(own.name)[1]}
        depends: dict[str, list[str]] = {}
        imports: dict[str, list[str]] = {}
        dist_names: dict[str, str] = {}
        queue = [OWN_PACKAGE] + [n for n in pins if n != OWN_PACKAGE]
        for n in pins:
            versions[n] = pins[n]
        downloaded = 0
        while queue:
            name = queue.pop(0)
            if name in depends:
                continue
            if name not in wheels:
                wheels[name], fresh = fetch_wheel(cache, name, versions[name], py_version)
                downloaded += fresh
            meta, reqs, imports[name] = wheel_metadata(wheels[name])
            dist_names[name] = meta["Name"]
            deps = set()
            for line in reqs:
                dep, spec, marker = parse_requirement(line)
                if marker and not eval_marker(marker, env):
                    continue
                if dep not in versions:
                    versions[dep] = pick_version(dep, name)
                if spec and not satisfies(versions[dep], spec):
                    die(f"{name} needs {dep}{spec} but {dep}=={versions[dep]} is selected; fix {PINS_FILE.name}")
                deps.add(dep)
                queue.append(dep)
            depends[name] = sorted(deps)
        log(f"resolved {len(wheels)} wheels ({downloaded} downloaded, {len(wheels) - 1 - downloaded} from "
            f"{cache}) ({time.monotonic() - t:.2f}s)")

        # Assemble the stage.
        t = time.monotonic()
        core = copy_core(stage)
        umd_src = copy_umd(stage)
        pyscript_files = copy_pyscript(stage)
        lock_packages: dict[str, dict] = {}
        for name in sorted(wheels):
            src = wheels[name]
            if src.parent != stage:
                shutil.copy2(src, stage / src.name)
            base = stock_pkgs.get(name)
            entry = {
                "name": base["name"] if base else dist_names[name],
                "version": versions[name],
                "file_name": src.name,
                "install_dir": "site",
                "sha256": sha256(stage / src.name),
                "package_type": "package",
                # Keep the stock import names where Pyodide curated them (pytest: _pytest, pytest).
                "imports": base["imports"] if base and base.get("imports") else imports[name],
                "depends": depends[name],
                "unvendored_tests": False,
                "tool": {},
            }
            lock_packages[name] = {k: entry[k] for k in sorted(entry)}
        for name, deps in depends.items():
            missing = [d for d in deps if d not in lock_packages]
            if missing:
                die(f"{name} depends on {missing}, which are not in dist/")
        lock = {"info": stock["info"], "packages": lock_packages}
        if "tool" in stock:
            lock["tool"] = stock["tool"]
        (stage / "pyodide-lock.json").write_text(json.dumps(lock, indent=2, sort_keys=False) + "\n")
        generated = set(core) | {"livekit-client.umd.js", "pyodide-lock.json"} | {w.name for w in wheels.values()}
        generated |= set(pyscript_files)
        # The worker bridge's page host ships in the wheel (package data) and at the site root for host pages.
        # One module: host.mjs with the page helpers it imports (page_helpers.mjs) in place of the import.
        page_js = runpy.run_path(str(ROOT / "livekit_pyweb" / "_page_js.py"))
        (stage / "lkpw-host.mjs").write_text(page_js["host_module"](), encoding="utf-8")
        generated.add("lkpw-host.mjs")
        n_web = copy_web(stage, generated)
        log(f"assembled: {len(core)} core files, {len(wheels)} wheels, pyodide-lock.json, "
            f"livekit-client.umd.js (from {umd_src}), {len(pyscript_files)} PyScript files, {n_web} web/ files ({time.monotonic() - t:.2f}s)")

        if args.no_snapshot:
            log("no snapshot (--no-snapshot / LKPW_SNAPSHOT=0): web/loader.mjs will boot Pyodide normally")
        else:
            t = time.monotonic()
            log(f"{make_snapshot(stage, wheels)} ({time.monotonic() - t:.2f}s)")
            if (stage / SNAPSHOT_MANIFEST).is_file():
                log(wasm_by_content(stage))
        log(preload_snapshot(stage))

        # Replace dist/ with the stage.
        if dist.exists():
            shutil.rmtree(dist)
        shutil.move(stage, dist)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)

    for name, e in lock_packages.items():
        deps = ", ".join(e["depends"]) or "-"
        print(f"    {name:18s} {e['version']:22s} imports={','.join(e['imports']) or '-':18s} depends={deps}")
    total = sum(p.stat().st_size for p in dist.rglob("*") if p.is_file())
    log(f"wrote {dist} ({total / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
