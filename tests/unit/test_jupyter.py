"""livekit_pyweb.jupyter outside a kernel (CPython, no anywidget in the test venv): the package imports, Room's host
detection gets None, a track shows as text, and the widget classes say what to install. In a kernel it is covered
end to end by tests/e2e/test_jupyterlite.py."""

from __future__ import annotations

import pytest

from livekit_pyweb import jupyter
from livekit_pyweb.errors import UnsupportedError


def test_not_a_kernel_gives_no_platform() -> None:
    assert jupyter.in_kernel() is False
    assert jupyter.jupyter_platform() is None


def test_a_track_outside_a_kernel_is_plain_text() -> None:
    class Track:
        def __repr__(self) -> str:
            return "<track>"

    assert jupyter.track_mimebundle(Track()) == {"text/plain": "<track>"}


def test_host_esm_is_the_package_host_module_plus_the_widget_glue() -> None:
    source = jupyter.host_esm()
    assert "export function startHost(" in source  # livekit_pyweb/_static/host.mjs, read as package data
    assert "const host = startHost(channel);" in source
    assert source.rstrip().endswith("export default { initialize, render };")
    assert "%(" not in source


def test_widgets_without_anywidget_say_what_to_install() -> None:
    try:
        import anywidget  # noqa: F401
    except ImportError:
        pass
    else:  # pragma: no cover - the test venv has no anywidget
        pytest.skip("anywidget is installed")
    with pytest.raises(UnsupportedError, match="pip install anywidget"):
        jupyter.VideoView  # noqa: B018
    with pytest.raises(AttributeError):
        jupyter.NoSuchThing  # noqa: B018
