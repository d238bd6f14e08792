"""Chromium command-line flags shared by every browser-driven test (tests/browser, tests/e2e).

Debian Chromium (/usr/bin/chromium) started as root with no internet: only loopback traffic, fake media devices,
WebRTC over loopback inside `unshare -n`. Import this module by path or put tests/ on sys.path; it has no
dependencies. `--user-data-dir` is not here: every browser launch needs its own folder (see
`chromium_flags()`).
"""

from __future__ import annotations

import os
import tempfile

CHROMIUM_BINARY = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

# Environment for Selenium: use the Debian driver, never let Selenium Manager go online or send statistics.
SELENIUM_ENV = {
    "SE_CHROMEDRIVER": CHROMEDRIVER,
    "SE_OFFLINE": "true",
    "SE_AVOID_STATS": "true",
}

CHROMIUM_FLAGS: list[str] = [
    # Headless as root (no setuid sandbox available to root).
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # Offline: no background traffic, and no DNS for anything but loopback.
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
    # Media and WebRTC: fake camera/mic with auto-granted permission; gather ICE candidates on loopback (the
    # only interface inside `unshare -n`); let media play without a user gesture.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
    # Several tabs of one browser take part in a call (e2e): keep background tabs' timers and rendering at
    # full speed, as a person would see them in separate windows.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    # pytest-pyodide's default chrome flag (replaced by set_flags), needed for forced GC in leak checks.
    "--js-flags=--expose-gc",
]


def chromium_flags(user_data_dir: str | None = None, *, base: list[str] | None = None) -> list[str]:
    """CHROMIUM_FLAGS (or `base`) plus `--user-data-dir`, a fresh temporary folder unless one is given.

    The caller owns the folder (remove it when the browser has quit).
    """
    if user_data_dir is None:
        user_data_dir = tempfile.mkdtemp(prefix="livekit-pyweb-chromium-")
    return [*(CHROMIUM_FLAGS if base is None else base), f"--user-data-dir={user_data_dir}"]


def apply_selenium_env() -> None:
    """Set SELENIUM_ENV in os.environ (values already set by the caller win)."""
    for key, value in SELENIUM_ENV.items():
        os.environ.setdefault(key, value)
