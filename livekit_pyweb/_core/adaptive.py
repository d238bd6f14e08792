"""adaptiveStream and the track settings a subscriber sends (sans-IO; time is passed in, in seconds).

Two parts, following livekit-client (``RemoteVideoTrack`` and ``RemoteTrackPublication.emitTrackUpdate``):

* :class:`AdaptiveStream`, one per remote video track when ``RoomOptions.adaptive_stream`` is on. Its inputs are
  what the page observes of each element the track is attached to (:class:`~._core.ports.ElementView`: size in CSS
  pixels, in the viewport or not, the page hidden or not, the device pixel ratio) and when; its outputs are the
  changes to tell the publication: visible or not, and the largest rendered size. The rules:

  - size: the element with the largest ``width + height``, times the pixel density (``"screen"``: the device pixel
    ratio; a number: that; unset: 2 when the ratio is above 2, else 1). Debounced: computed
    :data:`REACTION_DELAY` after the last change (resize, element observed or forgotten); told only when it
    differs from the last size told.
  - visible: some element intersects the viewport, and the page is not in the background (when
    ``pause_video_in_background``, default on). Showing is told at once; hiding only once it is
    :data:`REACTION_DELAY` old counted from the last element visibility change (a scroll that briefly hides an
    element does not pause the video). The page going hidden counts after :data:`BACKGROUND_DELAY`; coming back,
    at once.

* :func:`compose`: one ``UpdateTrackSettings`` from everything a publication knows: the user's
  ``set_enabled``, ``set_video_dimensions`` and ``set_video_quality`` requests and the adaptive result.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Mapping

from .ports import ElementView

REACTION_DELAY = 0.1
"""Seconds: resize debounce, and how old a hide must be before it counts (livekit-client: 100 ms)."""
BACKGROUND_DELAY = 5.0
"""Seconds the page must stay hidden before its videos pause (livekit-client: 5 s)."""

_NEVER = float("-inf")

# livekit_models.VideoQuality values
LOW, MEDIUM, HIGH = 0, 1, 2


@dataclasses.dataclass(frozen=True, slots=True)
class Change:
    """What changed since the last poll: ``visible`` and/or ``dimensions`` (None: unchanged)."""

    visible: bool | None = None
    dimensions: tuple[float, float] | None = None


def pixel_density(setting: float | str | None, device_pixel_ratio: float) -> float:
    """The multiplier applied to CSS pixels (livekit-client's ``getPixelDensity``)."""
    if setting == "screen":
        return device_pixel_ratio if device_pixel_ratio > 0 else 1.0
    if setting is None or setting == 0:
        return 2.0 if device_pixel_ratio > 2 else 1.0
    if isinstance(setting, str):
        raise ValueError(f"pixel_density must be a number or 'screen', not {setting!r}")
    return float(setting)


@dataclasses.dataclass(slots=True)
class _Element:
    view: ElementView
    visibility_changed_at: float


class AdaptiveStream:
    """The adaptive-stream state of one remote video track (see the module docstring).

    Feed it with :meth:`observe` / :meth:`forget` / :meth:`refresh`, then call :meth:`poll` with the same clock: it
    returns what to tell (or None) and :meth:`deadline` says when to poll next (None: only on the next input).
    """

    def __init__(self, pixel_density: float | str | None = None, pause_video_in_background: bool = True) -> None:
        if isinstance(pixel_density, str) and pixel_density != "screen":
            raise ValueError(f"pixel_density must be a number or 'screen', not {pixel_density!r}")
        if isinstance(pixel_density, (int, float)) and not pixel_density >= 0:
            raise ValueError(f"pixel_density must be positive, not {pixel_density!r}")
        self.pixel_density = pixel_density
        self.pause_video_in_background = pause_video_in_background
        self._elements: dict[Hashable, _Element] = {}
        self._page_hidden = False  # as the page last reported
        self._in_background = False  # hidden for BACKGROUND_DELAY already
        self._background_due: float | None = None
        self._resize_due: float | None = None
        self._visibility_due: float | None = None
        self._evaluate_visibility = False
        self._last_visible: bool | None = None
        self._last_dimensions: tuple[float, float] | None = None

    # -- inputs ------------------------------------------------------------------------------------------------
    def observe(self, key: Hashable, view: ElementView, now: float) -> None:
        """The page's view of element ``key``: its first report (the element is now observed) or a newer one."""
        old = self._elements.get(key)
        if old is None:
            self._elements[key] = _Element(view, _NEVER)  # as livekit-client: an initial state is no "change"
            self._resized(now)
            self._evaluate_visibility = True
        else:
            if old.view.visible != view.visible:
                old.visibility_changed_at = now
                self._evaluate_visibility = True
            if (old.view.width, old.view.height, old.view.pixel_ratio) != (view.width, view.height, view.pixel_ratio):
                self._resized(now)
            old.view = view
        self._page(view.page_hidden, now)

    def forget(self, key: Hashable, now: float) -> None:
        """Element ``key`` is no longer observed (detached)."""
        if self._elements.pop(key, None) is not None:
            self._resized(now)
            self._evaluate_visibility = True

    def refresh(self) -> None:
        """Evaluate visibility at the next poll even without a new view (livekit-client does so when the server
        says the stream is active: a track attached nowhere gets paused)."""
        self._evaluate_visibility = True

    @property
    def observed(self) -> int:
        return len(self._elements)

    # -- outputs -----------------------------------------------------------------------------------------------
    def deadline(self) -> float | None:
        """When :meth:`poll` has something to do next without new input (None: nothing pending)."""
        pending = [t for t in (self._resize_due, self._visibility_due, self._background_due) if t is not None]
        return min(pending) if pending else None

    def poll(self, now: float) -> Change | None:
        """What to tell the publication now (None: nothing changed)."""
        if self._background_due is not None and now >= self._background_due:
            self._background_due = None
            self._in_background = True
            self._evaluate_visibility = True
        if self._visibility_due is not None and now >= self._visibility_due:
            self._visibility_due = None
            self._evaluate_visibility = True
        visible = self._visibility(now) if self._evaluate_visibility else None
        dimensions = None
        if self._resize_due is not None and now >= self._resize_due:
            self._resize_due = None
            dimensions = self._dimensions()
        if visible is None and dimensions is None:
            return None
        return Change(visible, dimensions)

    # -- rules -------------------------------------------------------------------------------------------------
    def _resized(self, now: float) -> None:
        self._resize_due = now + REACTION_DELAY  # trailing debounce: a later change pushes it back

    def _page(self, hidden: bool, now: float) -> None:
        if hidden == self._page_hidden:
            return
        self._page_hidden = hidden
        if hidden:
            self._background_due = now + BACKGROUND_DELAY
        else:
            self._background_due = None
            if self._in_background:
                self._in_background = False
                self._evaluate_visibility = True

    def _visibility(self, now: float) -> bool | None:
        self._evaluate_visibility = False
        background = self.pause_video_in_background and self._in_background
        visible = any(e.view.visible for e in self._elements.values()) and not background
        if visible == self._last_visible:
            self._visibility_due = None
            return None
        last_change = max((e.visibility_changed_at for e in self._elements.values()), default=_NEVER)
        if not visible and now - last_change < REACTION_DELAY:
            self._visibility_due = last_change + REACTION_DELAY  # a hide counts once it lasted that long
            return None
        self._visibility_due = None
        self._last_visible = visible
        return visible

    def _dimensions(self) -> tuple[float, float] | None:
        best = (0.0, 0.0)
        for element in self._elements.values():
            density = pixel_density(self.pixel_density, element.view.pixel_ratio)
            size = (element.view.width * density, element.view.height * density)
            if size[0] + size[1] > best[0] + best[1]:
                best = size
        if best == self._last_dimensions:
            return None
        self._last_dimensions = best
        return best


@dataclasses.dataclass(frozen=True, slots=True)
class TrackSettings:
    """One ``UpdateTrackSettings``: ``disabled``, and for video either ``width``/``height`` or ``quality``."""

    disabled: bool
    width: int = 0
    height: int = 0
    quality: int | None = None


def _smaller(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] * a[1] < b[0] * b[1]


def compose(
    *,
    video: bool,
    requested_enabled: bool | None = None,
    adaptive: bool = False,
    visible: bool = True,
    adaptive_dimensions: tuple[float, float] | None = None,
    requested_dimensions: tuple[int, int] | None = None,
    requested_quality: int | None = None,
    layers: Mapping[int, tuple[int, int]] | None = None,
) -> TrackSettings:
    """The settings livekit-client's ``emitTrackUpdate`` sends.

    * enabled: the user's ``set_enabled`` wins; else, with adaptive stream, whether the video shows; else True.
    * video size: ``set_video_dimensions`` (the adaptive size instead when that is smaller by area); else with
      ``set_video_quality`` that quality (the adaptive size instead when smaller than that layer's size, from
      ``layers``: quality -> (width, height)); else the adaptive size; else HIGH. Sizes are rounded up.
    """
    if requested_enabled is not None:
        enabled = requested_enabled
    else:
        enabled = visible if adaptive else True
    if not video:
        return TrackSettings(disabled=not enabled)
    size: tuple[float, float] | None = requested_dimensions
    if adaptive_dimensions is not None:
        if size is not None:
            if _smaller(adaptive_dimensions, size):
                size = adaptive_dimensions
        elif requested_quality is not None:
            layer = (layers or {}).get(requested_quality)
            if layer is not None and _smaller(adaptive_dimensions, layer):
                size = adaptive_dimensions
        else:
            size = adaptive_dimensions
    if size is not None:
        return TrackSettings(disabled=not enabled, width=_ceil(size[0]), height=_ceil(size[1]))
    return TrackSettings(disabled=not enabled, quality=HIGH if requested_quality is None else requested_quality)


def _ceil(value: float) -> int:
    whole = int(value)
    return whole + 1 if value > whole else whole
