"""is_browser_supported(), supports_adaptive_stream(), supports_dynacast() in Chromium: on the main thread they
answer for this page; in a Web Worker (no RTCPeerConnection of its own) for the page serving its bridge; a worker
with no page host gets False from each."""

from __future__ import annotations

import pytest

from .conftest import run_py

ASK = """
import json, js
from livekit_pyweb import is_browser_supported, supports_adaptive_stream, supports_dynacast
from livekit_pyweb._browser import live_proxy_count
base = live_proxy_count()
answers = [await is_browser_supported(), await supports_adaptive_stream(), await supports_dynacast()]
json.dumps({"answers": answers, "here_has_pc": hasattr(js, "RTCPeerConnection"),
            "proxies": live_proxy_count() - base})
"""


@pytest.mark.driver_timeout(60)
def test_on_the_main_thread(selenium_standalone):
    selenium = selenium_standalone
    selenium.load_package(["livekit-pyweb"])
    out = run_py(selenium, ASK)
    assert out == {"answers": [True, True, True], "here_has_pc": True, "proxies": 0}, out


@pytest.mark.driver_timeout(120)
def test_in_a_worker_they_answer_for_the_hosting_page(selenium_standalone, dist_url):
    from .test_worker_bridge import open_worker_page, run_worker

    driver = selenium_standalone.driver
    open_worker_page(driver, dist_url)
    out = run_worker(driver, ASK)
    # The worker has no RTCPeerConnection, the page that hosts its media does: supported.
    assert out == {"answers": [True, True, True], "here_has_pc": False, "proxies": 0}, out


@pytest.mark.driver_timeout(120)
def test_in_a_worker_without_a_page_host_nothing_is_supported(selenium_standalone, dist_url):
    from .test_worker_bridge import open_worker_page, run_worker

    driver = selenium_standalone.driver
    open_worker_page(driver, dist_url, host="none")
    out = run_worker(driver, ASK)
    assert out == {"answers": [False, False, False], "here_has_pc": False, "proxies": 0}, out
