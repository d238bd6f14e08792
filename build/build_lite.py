#!/usr/bin/env python3
"""Build dist/lite/: an offline JupyterLite site whose Python kernel can `import livekit_pyweb` at once.

Run after build/build_dist.py (build/setup.sh does), with any Python 3.11+:

    python build/build_lite.py [--force]

What it makes:
  * a build venv at ~/.cache/livekit-pyweb/lite-venv with build/requirements-lite.txt (jupyterlite-core and
    jupyterlite-pyodide-kernel 0.8.6, jupyter-server, and anywidget/ipywidgets/jupyterlab_widgets for their front
    ends) - apart from the test venv, so these pins never meet pytest's;
  * `jupyter lite build` of web/notebooks/ into a fresh folder (no `_output` or `.jupyterlite.doit.db` is ever
    reused: an incremental rebuild once dropped `pyodideUrl` silently and the kernel went back to the CDN);
  * static/pyodide/: the Pyodide core from dist/, web/loader.mjs with dist/'s Pyodide memory snapshot (the
    kernel's `pyodideUrl` is the loader, which boots from the snapshot), plus every wheel the kernel needs, with a
    lock written here (real sha256 values). The lock is dist/'s (our wheel, livekit-protocol, protobuf, micropip,
    ...) plus the kernel's own closure from build/requirements-lite-pyodide.txt (ipython, jedi, comm, anywidget,
    ipywidgets, ...) and the kernel's stub wheels (piplite, pyodide-kernel, ipykernel, widgetsnbextension) taken
    from the build venv;
  * jupyter-lite.json pointing the kernel at that folder (`pyodideUrl`, `disablePyPIFallback`) and preloading
    (`loadPyodideOptions.packages`) the kernel's packages, livekit-pyweb and the widget packages: `import
    livekit_pyweb` works in the first cell, and the kernel skips its own one-by-one piplite installs;
  * pypi/: our wheel and its dependencies, comm, anywidget, ipywidgets, jupyterlab_widgets, psygnal and
    typing-extensions, indexed for piplite, so `%pip install livekit-pyweb` works too (PyPI is never asked).

Why a Pyodide folder of its own rather than more roots in requirements-pyodide.txt: dist/'s lock is what every
browser test and the PyScript pages load, and the kernel's ~20 extra wheels (ipython, jedi, the widget stack) have
no business there; this folder is dist/'s lock plus those, so nothing is resolved twice.

Fast when nothing changed: the `jupyter lite build` output (the part that does not depend on any wheel) is cached
under ~/.cache/livekit-pyweb/lite-site/ with a key over its inputs (this script, the build venv's pins, the
notebooks, the jupyter-lite settings); a matching key skips the build. The rest - static/pyodide/, pypi/ and their
indexes, where our wheel changes with every source edit - is assembled on every run by hard links (build_dist.py
replaces dist/ whole on each run, so that step always runs; it takes well under a second). Standard library only;
downloads are cached in ~/.cache/livekit-pyweb/wheels (shared with build_dist.py), so reruns need no network.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "build"))
import build_dist as bd  # noqa: E402  (its helpers: wheel metadata, markers, specifiers, PyPI downloads)

CACHE = Path(os.environ.get("LKPW_CACHE", Path.home() / ".cache" / "livekit-pyweb"))
VENV = CACHE / "lite-venv"
SITE_CACHE = CACHE / "lite-site"
WHEEL_CACHE = CACHE / "wheels"
DIST = ROOT / "dist"
OUT = DIST / "lite"
NOTEBOOKS = ROOT / "web" / "notebooks"
VENV_REQS = ROOT / "build" / "requirements-lite.txt"
KERNEL_PINS = ROOT / "build" / "requirements-lite-pyodide.txt"

KERNEL_PLUGIN = "@jupyterlite/pyodide-kernel-extension:kernel"
# The kernel's stub wheels, shipped inside jupyterlite-pyodide-kernel's labextension (not on PyPI at these versions).
STUB_WHEELS_DIR = "share/jupyter/labextensions/@jupyterlite/pyodide-kernel-extension/static/pypi"
STUBS = {"piplite", "pyodide-kernel", "ipykernel", "widgetsnbextension"}
# Preloaded by loadPyodide: what the kernel would otherwise piplite-install one by one at start (it skips a name that
# is listed here), our package, and the widget stack livekit_pyweb.jupyter uses. Their dependencies come with them.
PRELOAD = ["micropip", "piplite", "ipykernel", "comm", "pyodide-kernel", "jedi", "ipython",
           "livekit-pyweb", "anywidget", "ipywidgets"]
# Indexed for piplite (`%pip install ...`): these and their dependencies found in the lock.
PIPLITE_ROOTS = ["livekit-pyweb", "comm", "anywidget", "ipywidgets", "jupyterlab-widgets", "psygnal",
                 "typing-extensions"]

SETTINGS = {
    "jupyter-config-data": {
        # window.jupyterapp: lets a test (tests/e2e/test_jupyterlite.py) run JupyterLab commands as a person would.
        "exposeAppInBrowser": True,
        "litePluginSettings": {
            KERNEL_PLUGIN: {
                # Our loader (it exports Pyodide's loadPyodide): the kernel boots from dist/'s memory snapshot,
                # copied next to it, then loads the packages below that the snapshot does not hold.
                "pyodideUrl": "./static/pyodide/loader.mjs",
                "disablePyPIFallback": True,
                # Written by this script (pypi/ is assembled after the build; the piplite addon sees no wheels).
                "pipliteUrls": ["./pypi/all.json"],
                "loadPyodideOptions": {"packages": PRELOAD},
            }
        }
    }
}

# JupyterLab settings of the site (overrides.json): every cell stays in the page (the default windowing takes cells
# scrolled out of view off the page, and a <video> in their output with them).
OVERRIDES = {"@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"}}

T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[lite {time.monotonic() - T0:6.2f}s] {msg}", flush=True)


def die(msg: str) -> None:
    print(f"build_lite: error: {msg}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def run(cmd: list[str], cwd: Path | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        print(proc.stdout[-6000:], file=sys.stderr)
        die(f"command failed ({proc.returncode}): {' '.join(cmd)}")
    return proc.stdout


def ensure_venv() -> Path:
    """The build venv with requirements-lite.txt; pip runs only when the pin file changed."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".lkpw-requirements.sha256"
    want = hashlib.sha256(VENV_REQS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return python
    if not python.exists():
        log(f"creating the build venv {VENV}")
        VENV.parent.mkdir(parents=True, exist_ok=True)
        run([sys.executable, "-m", "venv", str(VENV)])
        run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-U", "pip"])
    log(f"installing {VENV_REQS.name} into {VENV}")
    run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(VENV_REQS)])
    stamp.write_text(want + "\n")
    return python


def read_pins(path: Path) -> dict[str, str]:
    saved = bd.PINS_FILE
    bd.PINS_FILE = path
    try:
        return bd.read_pins()
    finally:
        bd.PINS_FILE = saved


def lock_entry(name: str, version: str, wheel: Path, imports: list[str], depends: list[str],
               stock: dict | None, dist_name: str) -> dict:
    entry = {
        "name": stock["name"] if stock else dist_name,
        "version": version,
        "file_name": wheel.name,
        "install_dir": "site",
        "sha256": bd.sha256(wheel),
        "package_type": "package",
        "imports": stock["imports"] if stock and stock.get("imports") else imports,
        "depends": depends,
        "unvendored_tests": False,
        "tool": {},
    }
    return {k: entry[k] for k in sorted(entry)}


def resolve(dist_lock: dict, stock_pkgs: dict[str, dict], stubs: dict[str, Path],
            py_version: str, env: dict) -> tuple[dict[str, dict], dict[str, Path]]:
    """dist/'s lock plus the kernel closure: (lock packages, wheel path of each)."""
    packages: dict[str, dict] = {}
    files: dict[str, Path] = {}
    for name, entry in dist_lock["packages"].items():
        packages[name] = entry
        files[name] = DIST / entry["file_name"]
        if not files[name].is_file():
            die(f"dist/{entry['file_name']} is missing: rerun build/build_dist.py")
    pins = read_pins(KERNEL_PINS)
    versions: dict[str, str] = {n: e["version"] for n, e in packages.items()}
    for name, path in stubs.items():
        versions.setdefault(name, bd.parse_wheel_name(path.name)[1])
    for name, version in pins.items():
        if name in versions and versions[name] != version:
            die(f"{KERNEL_PINS.name} pins {name}=={version} but dist/ has {versions[name]}")
        versions[name] = version
    queue = list(pins) + sorted(stubs)
    downloaded = 0
    while queue:
        name = queue.pop(0)
        if name in packages:
            continue
        if name in stubs:
            wheel = stubs[name]
        else:
            wheel, fresh = bd.fetch_wheel(WHEEL_CACHE, name, versions[name], py_version)
            downloaded += fresh
        meta, reqs, imports = bd.wheel_metadata(wheel)
        deps = set()
        for line in reqs:
            dep, spec, marker = bd.parse_requirement(line)
            if marker and not bd.eval_marker(marker, env):
                continue
            if dep not in versions:
                if dep in stock_pkgs:
                    versions[dep] = stock_pkgs[dep]["version"]
                else:
                    die(f"{dep} (needed by {name}) is neither pinned in {KERNEL_PINS.name} nor in the stock lock")
            if spec and not bd.satisfies(versions[dep], spec):
                die(f"{name} needs {dep}{spec} but {dep}=={versions[dep]} is selected; fix {KERNEL_PINS.name}")
            deps.add(dep)
            queue.append(dep)
        files[name] = wheel
        packages[name] = lock_entry(name, versions[name], wheel, imports, sorted(deps), stock_pkgs.get(name),
                                    meta["Name"])
    for name, entry in packages.items():
        missing = [d for d in entry["depends"] if d not in packages]
        if missing:
            die(f"{name} depends on {missing}, which are not in the lite lock")
    for name in PRELOAD + PIPLITE_ROOTS:
        if name not in packages:
            die(f"{name} is preloaded or indexed but not in the lite lock")
    if downloaded:
        log(f"downloaded {downloaded} wheels into {WHEEL_CACHE}")
    return packages, files


def closure(packages: dict[str, dict], roots: list[str]) -> list[str]:
    seen: list[str] = []
    todo = list(roots)
    while todo:
        name = todo.pop(0)
        if name not in seen:
            seen.append(name)
            todo.extend(packages[name]["depends"])
    return sorted(seen)


def core_files() -> list[Path]:
    files = [DIST / f for f in bd.CORE_REQUIRED]
    for pattern in bd.CORE_OPTIONAL_GLOBS:
        files.extend(sorted(DIST.glob(pattern)))
    for f in files:
        if not f.is_file():
            die(f"dist/{f.name} is missing: run build/build_dist.py first")
    return files


def snapshot_files() -> list[Path]:
    """web/loader.mjs with dist/'s Pyodide snapshot (when the build made one) and what the loader reads on a fallback:
    the kernel's pyodideUrl. Without a snapshot the loader boots the kernel normally (and says so on the console)."""
    files = [DIST / "loader.mjs", DIST / "snapshot_imports.py"]
    manifest = DIST / bd.SNAPSHOT_MANIFEST
    if manifest.is_file():
        data = json.loads(manifest.read_text())
        files += [manifest, DIST / data["file"]]
        if data.get("wasmDir"):  # the content-named wasm the loader boots from (V8's code cache; build_dist.py)
            files.append(DIST / data["wasmDir"] / "pyodide.asm.wasm")
    for f in files:
        if not f.is_file():
            die(f"dist/{f.name} is missing: run build/build_dist.py first")
    return files


def skeleton_key(venv_python: Path) -> str:
    """What `jupyter lite build` depends on: no wheel, no Pyodide file (those are added afterwards)."""
    h = hashlib.sha256()
    for path in (Path(__file__), VENV_REQS):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for path in sorted(NOTEBOOKS.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and ".ipynb_checkpoints" not in path.parts:
            h.update(str(path.relative_to(NOTEBOOKS)).encode() + b"\0" + path.read_bytes() + b"\0")
    h.update(json.dumps([SETTINGS, OVERRIDES], sort_keys=True).encode())
    h.update(str(venv_python.resolve()).encode())
    return h.hexdigest()


def build_skeleton(venv_python: Path, dest: Path) -> None:
    """`jupyter lite build` of the notebooks with our settings in a fresh folder, moved to ``dest``."""
    with tempfile.TemporaryDirectory(prefix="livekit-pyweb-lite-") as tmp:
        lite_dir = Path(tmp)
        for stale in ("_output", ".jupyterlite.doit.db"):  # a fresh folder, but never reuse either (see docstring)
            p = lite_dir / stale
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        (lite_dir / "jupyter-lite.json").write_text(json.dumps(SETTINGS, indent=2) + "\n")
        (lite_dir / "jupyter_lite_config.json").write_text(json.dumps({"LiteBuildConfig": {}}) + "\n")
        (lite_dir / "overrides.json").write_text(json.dumps(OVERRIDES, indent=2) + "\n")
        jupyter = venv_python.parent / "jupyter"
        t = time.monotonic()
        run([str(jupyter), "lite", "build", "--lite-dir", str(lite_dir), "--contents", str(NOTEBOOKS),
             "--output-dir", str(lite_dir / "_output")], cwd=lite_dir)
        log(f"jupyter lite build ({time.monotonic() - t:.2f}s)")
        out = lite_dir / "_output"
        settings = json.loads((out / "jupyter-lite.json").read_text())["jupyter-config-data"]
        kernel = settings.get("litePluginSettings", {}).get(KERNEL_PLUGIN, {})
        want = SETTINGS["jupyter-config-data"]["litePluginSettings"][KERNEL_PLUGIN]
        lost = {k: v for k, v in want.items() if k != "pipliteUrls" and kernel.get(k) != v}
        if lost or want["pipliteUrls"][0] not in kernel.get("pipliteUrls", []):
            die(f"the built jupyter-lite.json lost kernel settings: wanted {want}, got {kernel}")
        if settings.get("settingsOverrides") != OVERRIDES:
            die(f"the built jupyter-lite.json has settingsOverrides {settings.get('settingsOverrides')}, not {OVERRIDES}")
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(out), str(dest))


def piplite_release(wheel: Path) -> tuple[str, str, dict]:
    """(normalized name, version, release) for pypi/all.json, as jupyterlite-pyodide-kernel's piplite addon writes
    them (a minimal Warehouse JSON API entry)."""
    meta, _, _ = bd.wheel_metadata(wheel)
    data = wheel.read_bytes()
    md5 = hashlib.md5(data).hexdigest()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(wheel.stat().st_mtime))
    release = {
        "comment_text": "", "digests": {"sha256": hashlib.sha256(data).hexdigest(), "md5": md5}, "downloads": -1,
        "filename": wheel.name, "has_sig": False, "md5_digest": md5, "packagetype": "bdist_wheel",
        "python_version": "py3", "requires_python": meta.get("Requires-Python"), "size": len(data),
        "upload_time": stamp, "upload_time_iso_8601": stamp, "url": f"./{wheel.name}", "yanked": False,
        "yanked_reason": None,
    }
    return bd.normalize(meta["Name"]), meta["Version"], release


def assemble(out: Path, packages: dict[str, dict], files: dict[str, Path], core: list[Path],
             lock_info: dict) -> list[str]:
    """static/pyodide/ (core, wheels, lock) and pypi/ (wheels, all.json) into the linked skeleton ``out``."""
    pyodide = out / "static" / "pyodide"
    pyodide.mkdir(parents=True)
    for f in core:
        link_or_copy(str(f), str(pyodide / f.name))
    for f in snapshot_files():
        target = pyodide / f.relative_to(DIST)
        target.parent.mkdir(parents=True, exist_ok=True)
        link_or_copy(str(f), str(target))
    for name in sorted(packages):
        link_or_copy(str(files[name]), str(pyodide / files[name].name))
    lock = {"info": lock_info["info"], "packages": {n: packages[n] for n in sorted(packages)}}
    if "tool" in lock_info:
        lock["tool"] = lock_info["tool"]
    (pyodide / "pyodide-lock.json").write_text(json.dumps(lock, indent=2) + "\n")
    pypi = out / "pypi"
    pypi.mkdir()
    indexed = closure(packages, PIPLITE_ROOTS)
    index: dict[str, dict] = {}
    for name in indexed:
        link_or_copy(str(files[name]), str(pypi / files[name].name))
        norm, version, release = piplite_release(files[name])
        index.setdefault(norm, {"releases": {}})["releases"][version] = [release]
    (pypi / "all.json").write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    return indexed


def link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def main() -> None:
    global DIST, OUT  # --dist: another dist folder (e.g. a private copy while dist/ is being rebuilt)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--force", action="store_true", help="rebuild even when the inputs are unchanged")
    ap.add_argument("--dist", type=Path, default=DIST, help="the dist/ built by build_dist.py (default: %(default)s)")
    args = ap.parse_args()
    DIST = args.dist.resolve()
    OUT = DIST / "lite"
    dist_lock_path = DIST / "pyodide-lock.json"
    if not dist_lock_path.is_file():
        die("dist/pyodide-lock.json is missing: run build/build_dist.py first")
    if not NOTEBOOKS.is_dir():
        die(f"{NOTEBOOKS.relative_to(ROOT)} is missing")
    venv_python = ensure_venv()
    dist_lock = json.loads(dist_lock_path.read_text())
    stock = json.loads((bd.PYODIDE_NPM / "pyodide-lock.json").read_text())
    stock_pkgs = {bd.normalize(k): v for k, v in stock["packages"].items()}
    python_full = dist_lock["info"]["python"]
    py_version = ".".join(python_full.split(".")[:2])
    env = bd.pyodide_marker_env(python_full)
    stub_dir = VENV / STUB_WHEELS_DIR
    stubs: dict[str, Path] = {}
    for wheel in sorted(stub_dir.glob("*.whl")):
        name, version, _ = bd.parse_wheel_name(wheel.name)
        if name in STUBS and (name not in stubs or bd.version_key(version) > bd.version_key(
                bd.parse_wheel_name(stubs[name].name)[1])):
            stubs[name] = wheel  # widgetsnbextension: 3.6.999 and 4.0.999, ipywidgets 8 wants ~=4.0.14
    if set(stubs) != STUBS:
        die(f"expected the kernel's stub wheels {sorted(STUBS)} in {stub_dir}, found {sorted(stubs)}")

    packages, files = resolve(dist_lock, stock_pkgs, stubs, py_version, env)
    core = core_files()
    key = skeleton_key(venv_python)
    skeleton = SITE_CACHE / "skeleton"
    stamp = SITE_CACHE / "key"
    if not args.force and skeleton.is_dir() and stamp.is_file() and stamp.read_text().strip() == key:
        log(f"jupyter lite build inputs unchanged: reusing {skeleton}")
    else:
        stamp.unlink(missing_ok=True)
        build_skeleton(venv_python, skeleton)
        stamp.write_text(key + "\n")
    t = time.monotonic()
    if OUT.exists():
        shutil.rmtree(OUT)
    shutil.copytree(skeleton, OUT, copy_function=link_or_copy)
    indexed = assemble(OUT, packages, files, core, dist_lock)
    own = packages["livekit-pyweb"]["file_name"]
    log(f"dist/lite/ ({time.monotonic() - t:.2f}s): {len(packages)} wheels in static/pyodide/pyodide-lock.json "
        f"({own}), {len(indexed)} in pypi/all.json, notebooks "
        f"{', '.join(p.name for p in sorted(NOTEBOOKS.glob('*.ipynb')))}; open /lite/notebooks/?path=livekit.ipynb")


if __name__ == "__main__":
    main()
