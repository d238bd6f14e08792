"""Shared test configuration. Browser and e2e layers: pytest-pyodide (0.59.2, selenium runner) against Debian
Chromium, fully offline. Unit tests (tests/unit) need none of it.

Run (after `python build/build_dist.py`):

    /root/.cache/livekit-pyweb/venv/bin/python -m pytest tests/browser --runtime chrome --dist-dir dist

pytest-pyodide's SeleniumChromeRunner always passes `--headless --no-sandbox`, then the configured chrome flags;
`set_flags("chrome", ...)` replaces only its default list (`["--js-flags=--expose-gc"]`), so that flag is kept in
CHROMIUM_FLAGS. Every browser launch gets its own fresh `--user-data-dir` (two runners may be alive at once,
e.g. `selenium` and `selenium_standalone`, and Chromium refuses to share a profile).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

_TESTS_DIR = Path(__file__).resolve().parent
_REPO = _TESTS_DIR.parent
if str(_TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(_TESTS_DIR))

from chromium_flags import apply_selenium_env, chromium_flags  # noqa: E402

# Before selenium builds any driver: use /usr/bin/chromedriver, keep Selenium Manager offline.
apply_selenium_env()

import pytest_pyodide  # noqa: E402
from pytest_pyodide.runner import SeleniumChromeRunner  # noqa: E402

_PROFILE_ROOT = tempfile.mkdtemp(prefix="livekit-pyweb-pytest-chromium-")


def _set_fresh_flags() -> None:
    profile = tempfile.mkdtemp(prefix="profile-", dir=_PROFILE_ROOT)
    pytest_pyodide.get_global_config().set_flags("chrome", chromium_flags(profile))


_set_fresh_flags()
_original_get_driver = SeleniumChromeRunner.get_driver


def _get_driver_with_fresh_profile(self, *args, **kwargs):
    _set_fresh_flags()
    return _original_get_driver(self, *args, **kwargs)


SeleniumChromeRunner.get_driver = _get_driver_with_fresh_profile

# pytest-pyodide loads Pyodide under its 20 s default script timeout. On a loaded 2-core machine (parallel e2e runs)
# a cold load took longer and the test errored in setup before it began. The load gets 60 s; every script after it
# keeps the 20 s default (or the test's driver_timeout), so a hanging test fails as soon as before.
_LOAD_PYODIDE_TIMEOUT = 60
_original_load_pyodide = SeleniumChromeRunner.load_pyodide


def _load_pyodide_with_more_time(self, *args, **kwargs):
    default = self.script_timeout
    self.set_script_timeout(max(default, _LOAD_PYODIDE_TIMEOUT))
    try:
        return _original_load_pyodide(self, *args, **kwargs)
    finally:
        self.set_script_timeout(default)


SeleniumChromeRunner.load_pyodide = _load_pyodide_with_more_time


def pytest_configure(config: pytest.Config) -> None:
    dist = Path(config.option.dist_dir).resolve()
    lock_path = dist / "pyodide-lock.json"
    only_unit = all("unit" in Path(a).parts for a in config.args) if config.args else False
    if only_unit:
        return
    if not lock_path.is_file():
        raise pytest.UsageError(
            f"{lock_path} not found: build the offline Pyodide folder first "
            f"(python build/build_dist.py) and pass --dist-dir dist"
        )
    lock = json.loads(lock_path.read_text())
    entry = lock["packages"].get("livekit-pyweb")
    if entry is None:
        raise pytest.UsageError(f"{lock_path} has no livekit-pyweb entry: rebuild with build/build_dist.py")
    wheel = dist / entry["file_name"]
    sources = list((_REPO / "livekit_pyweb").rglob("*.py"))
    if wheel.is_file() and sources and max(p.stat().st_mtime for p in sources) > wheel.stat().st_mtime:
        config.issue_config_time_warning(
            pytest.PytestConfigWarning(
                f"livekit_pyweb/ changed after {wheel.name} was built: the browser tests run the old wheel; "
                f"rerun build/build_dist.py"
            ),
            stacklevel=2,
        )


# Per-layer deadlines (pytest-timeout): a test that hangs fails with its name and every thread's stack, and the run
# goes on. A test may ask for more with its own @pytest.mark.timeout(N).
LAYER_TIMEOUTS = {"unit": 15, "browser": 150, "e2e": 240}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("timeout") is not None:
            continue
        parts = Path(str(item.fspath)).relative_to(_TESTS_DIR).parts
        seconds = LAYER_TIMEOUTS.get(parts[0]) if parts else None
        if seconds is not None:
            item.add_marker(pytest.mark.timeout(seconds))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_PROFILE_ROOT, ignore_errors=True)
