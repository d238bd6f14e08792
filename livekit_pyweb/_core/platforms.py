"""Which platform a Room or a track made outside a Room uses, when given a choice name (``"auto"``, ``"direct"``,
``"bridge"``): tracks captured before or outside a Room (``create_local_tracks``) and the Rooms that publish them
must reach the same page objects (across the worker bridge a track is a handle of one page-host session, useless to
another). Pure bookkeeping; ``make(choice)`` builds a platform (``_browser.host.default_platform`` in a browser).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_rooms: dict[str, list[Any]] = {}  # platforms Rooms made for themselves, while connected (most recent last)
_shared: dict[str, Any] = {}  # the platform create_local_tracks made when no Room had one


def _open(platform: Any) -> bool:
    return platform is not None and not bool(getattr(platform, "closed", False))


def existing(choice: str) -> Any:
    """An open platform for ``choice`` that a connected Room or ``create_local_tracks`` made, or None."""
    for platform in reversed(_rooms.get(choice, [])):
        if _open(platform):
            return platform
    shared = _shared.get(choice)
    return shared if _open(shared) else None


def for_tracks(choice: str, make: Callable[[str], Any]) -> Any:
    """Where ``create_local_tracks(platform=choice)`` captures: the platform of a connected Room made with the same
    choice, else one shared platform for that choice (made once; Rooms made afterwards use it too)."""
    for platform in reversed(_rooms.get(choice, [])):
        if _open(platform):
            return platform
    shared = _shared.get(choice)
    if not _open(shared):
        shared = _shared[choice] = make(choice)
    return shared


def for_room(choice: str, make: Callable[[str], Any]) -> tuple[Any, bool]:
    """``(platform, owned)`` for a Room connecting with ``choice``: the shared one of :func:`for_tracks` when there
    is one (not the Room's to close: local tracks live on it), else a new one the Room owns and hands back with
    :func:`room_done` before closing it."""
    shared = _shared.get(choice)
    if _open(shared):
        return shared, False
    platform = make(choice)
    _rooms.setdefault(choice, []).append(platform)
    return platform, True


def room_done(choice: str, platform: Any) -> None:
    """A Room is done with the platform :func:`for_room` made for it."""
    _rooms[choice] = [p for p in _rooms.get(choice, []) if p is not platform]
