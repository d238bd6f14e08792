"""livekit_pyweb in a notebook (JupyterLite's Pyodide kernel): the page side of the bridge as a widget, and
``display(track)`` for inline video.

A JupyterLite kernel is a Web Worker: no RTCPeerConnection, getUserMedia or DOM. The browser objects live on the
notebook page, in the bridge's host (``livekit_pyweb/_static/host.mjs``), which this module starts there as the
front end of an `anywidget <https://anywidget.dev>`_ widget:

* :func:`jupyter_platform` (called by ``Room``'s host detection) gives a ``BridgePlatform`` whose announce displays
  a :class:`HostWidget` in the running cell. The widget's only state is the BroadcastChannel's name: the comm
  carries that name and nothing else, and every call and event travels over the BroadcastChannel itself, because
  a JupyterLite kernel queues messages from the page until the running cell ends (the replies of an ``await``
  inside a cell would never arrive), while a BroadcastChannel message reaches the worker during any ``await``.
* :class:`VideoView` (what ``display(track)`` shows, via ``Track._repr_mimebundle_`` → :func:`track_mimebundle`)
  puts the ``<video>``/``<audio>`` element that ``track.attach()`` made on the page into the cell output: its front
  end finds the host with ``globalThis.livekitPyweb.hosts.get(channel)`` and appends ``host.element(handle)``.

Why a widget front end and not a JupyterLab extension: anywidget ships its JavaScript as a string in the widget's
state (``_esm``), so the host module goes with the wheel and needs no extension build, no change to the site and
nothing installed in the notebook server; any notebook front end with anywidget (JupyterLite, JupyterLab,
Notebook 7, VS Code) runs it. An extension would have to be built, versioned and installed into every site, for a
job that needs one module on the page while a room is open.

anywidget (with ipywidgets and traitlets) is imported only when a widget is made: ``import livekit_pyweb`` and
this module work without it; :func:`jupyter_platform` then says what to install.
"""

from __future__ import annotations

import importlib
import sys
from functools import cache
from typing import Any

from .errors import UnsupportedError

__all__ = ["HostWidget", "VideoView", "display_track", "host_esm", "in_kernel", "jupyter_platform",
           "track_mimebundle"]

# A host that no kernel greets within this time was restored from a saved notebook, not started by a Room: close it.
_WELCOME_TIMEOUT_MS = 15000

_HOST_GLUE = """
// ---- livekit_pyweb.jupyter: the host module above, started as the front end of a HostWidget ----
function lkpwHostLabel(channel) {
  const host = globalThis.livekitPyweb && globalThis.livekitPyweb.hosts.get(channel);
  if (!host) return "closed";
  if (!host.bound) return "waiting for the kernel";
  const c = host.counts();
  return `serving the kernel: ${c.pcs} peer connection(s), ${c.handles} handle(s), ${c.elements} media element(s)`;
}

function initialize({ model }) {
  const channel = model.get("channel");
  if (!channel) return;
  const host = startHost(channel);
  const timer = setTimeout(() => host.welcomed || host.close("no kernel said hello"), %(welcome)d);
  return () => {
    clearTimeout(timer);
    host.close("widget closed");
  };
}

function render({ model, el }) {
  const channel = model.get("channel");
  el.classList.add("lkpw-host");
  el.dataset.lkpwChannel = channel;
  el.style.cssText = "font: 12px monospace; color: #666; padding: 2px 0;";
  const show = () => { el.textContent = `livekit_pyweb page host (${channel}): ${lkpwHostLabel(channel)}`; };
  show();
  const timer = setInterval(show, 1000);
  return () => clearInterval(timer);
}

export default { initialize, render };
"""

_VIEW_ESM = """
// livekit_pyweb.jupyter.VideoView: show the media element a track was attached to (it lives in the bridge's host on
// this page) in the cell output.
const FIND_TIMEOUT_MS = 15000;

function render({ model, el }) {
  const channel = model.get("channel");
  const handle = model.get("handle");
  el.classList.add("lkpw-video-view");
  el.dataset.lkpwChannel = channel;
  el.dataset.lkpwHandle = String(handle);
  const note = document.createElement("div");
  note.style.cssText = "font: 12px monospace; color: #666;";
  note.textContent = `${model.get("label")} (waiting for the page host)`;
  el.replaceChildren(note);
  const t0 = Date.now();
  let media = null;
  let stopped = false;
  let timer = null;
  const poll = () => {
    if (stopped) return;
    const host = globalThis.livekitPyweb && globalThis.livekitPyweb.hosts.get(channel);
    if (!media) {
      media = host ? host.element(handle) : undefined;
      if (media) {
        media.style.maxWidth = model.get("max_width");
        media.style.display = "block";
        if (media.tagName === "AUDIO") media.controls = true;
        media.title = model.get("label");
        el.replaceChildren(media);
      } else if (Date.now() - t0 > FIND_TIMEOUT_MS) {
        note.textContent = `${model.get("label")}: not on this page (the room was left, or the page reloaded)`;
        return;
      }
    } else if (!el.contains(media)) {  // released by the host (detached, unsubscribed, room left)
      note.textContent = `${model.get("label")}: ended`;
      el.replaceChildren(note);
      return;
    }
    timer = setTimeout(poll, media ? 1000 : 100);
  };
  poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

export default { render };
"""


def in_kernel() -> bool:
    """True when running inside a Jupyter kernel (JupyterLite's Pyodide kernel, ipykernel)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:
        return False
    return shell is not None and getattr(shell, "kernel", None) is not None


def host_esm() -> str:
    """The HostWidget's front end: ``livekit_pyweb/_static/host.mjs`` with its page helpers (package data, one module:
    ``_page_js.host_module``) and the widget glue."""
    from ._page_js import host_module

    return host_module() + _HOST_GLUE % {"welcome": _WELCOME_TIMEOUT_MS}


def _anywidget() -> Any:
    try:
        return importlib.import_module("anywidget")
    except ImportError as exc:
        raise UnsupportedError(
            "livekit_pyweb in a notebook shows its page side as a widget and needs anywidget: "
            "%pip install anywidget (JupyterLite sites built by build/build_lite.py preload it)"
        ) from exc


@cache
def _classes() -> tuple[Any, Any]:
    base: Any = _anywidget().AnyWidget
    traitlets: Any = importlib.import_module("traitlets")

    class HostWidget(base):  # type: ignore[misc]
        """The bridge's page host, started on the notebook page for one BroadcastChannel (one Room connection).

        Its view is one status line; the host runs from the model's creation until the kernel says bye (the room
        disconnected), stops hearing the kernel, or the widget is closed.
        """

        _esm = host_esm()
        channel = traitlets.Unicode("").tag(sync=True)

    class VideoView(base):  # type: ignore[misc]
        """A track playing inline in the cell output: ``VideoView(track)`` (or ``display(track)``)."""

        _esm = _VIEW_ESM
        channel = traitlets.Unicode("").tag(sync=True)
        handle = traitlets.Int(0).tag(sync=True)
        label = traitlets.Unicode("").tag(sync=True)
        max_width = traitlets.Unicode("640px").tag(sync=True)

        def __init__(self, track: Any = None, **kwargs: Any) -> None:
            if track is not None:
                element = track.attach()
                channel, handle = getattr(element, "channel", None), getattr(element, "handle", None)
                if not isinstance(channel, str) or not isinstance(handle, int):
                    track.detach(element)
                    raise UnsupportedError(
                        "VideoView shows tracks attached across the worker bridge (a notebook kernel); on a page's "
                        "main thread put track.attach() in the page instead"
                    )
                kwargs.setdefault("label", _label(track))
                kwargs.update(channel=channel, handle=handle)
            super().__init__(**kwargs)
            self.track = track

    return HostWidget, VideoView


def _label(track: Any) -> str:
    kind = getattr(getattr(track, "kind", None), "name", "track").removeprefix("KIND_").lower()
    source = getattr(getattr(track, "source", None), "name", "").removeprefix("SOURCE_").lower()
    sid = getattr(track, "sid", "") or ""
    return " ".join(p for p in (kind, source, sid) if p)


def __getattr__(name: str) -> Any:  # HostWidget, VideoView: built on first use (anywidget is imported then)
    if name == "HostWidget":
        return _classes()[0]
    if name == "VideoView":
        return _classes()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _display(obj: Any) -> None:
    display: Any = importlib.import_module("IPython.display").display
    display(obj)


def announce_host(channel: str) -> None:
    """``BridgePlatform``'s announce in a kernel: show a :class:`HostWidget` for ``channel`` in the running cell
    (its front end starts the page host on that channel)."""
    host_widget = _classes()[0]
    _display(host_widget(channel=channel))


def jupyter_platform() -> Any:
    """The platform for a Room in this Jupyter kernel: a ``BridgePlatform`` whose page side is a
    :class:`HostWidget`; None when not in a Jupyter kernel.

    Raises:
        UnsupportedError: in a kernel without anywidget (it says what to install).
    """
    if not in_kernel():
        return None
    _anywidget()
    bridge: Any = importlib.import_module("livekit_pyweb._browser.bridge")
    return bridge.BridgePlatform(announce=announce_host)


def track_mimebundle(track: Any, include: Any = None, exclude: Any = None) -> Any:
    """``Track._repr_mimebundle_``: a :class:`VideoView` of ``track`` in a kernel, else plain text."""
    if not in_kernel():
        return {"text/plain": repr(track)}
    try:
        view = _classes()[1](track)
    except UnsupportedError:
        return {"text/plain": repr(track)}
    return view._repr_mimebundle_(include=include, exclude=exclude)


def display_track(track: Any, **kwargs: Any) -> Any:
    """Show ``track`` playing in the cell output and return its :class:`VideoView` (``display(track)`` does the
    same; keyword arguments set the view's traits, e.g. ``max_width="320px"``)."""
    view = _classes()[1](track, **kwargs)
    _display(view)
    return view
