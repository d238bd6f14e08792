"""What livekit-client does on page visibility for audio, sans-IO (livekit-client 2.x ``Room.startAudio``).

livekit-client does something on page visibility for audio on iOS only (its ``getBrowser().os === "iOS"``): iOS
plays a remote ``<audio>`` only while the page itself plays some audio, so ``startAudio()`` puts a hidden autoplay
``<audio>`` playing a silent track on the page (created once, played with the others inside the user gesture) and,
from then on, on each ``visibilitychange``: hidden → the silent element's ``srcObject`` is unplugged (else iOS shows
lock-screen controls for it); visible again → plugged back, and ``startAudio()`` runs again (resumes playback and
updates ``canPlaybackAudio``). The element goes when the room disconnects. Everywhere else page visibility does
nothing to audio (a hidden tab keeps playing).

:class:`SilentAudioPolicy` is that state machine: the room feeds it ``start_audio``, visibility changes and the
disconnect, and carries out the :class:`Action` list it returns through the Platform port.
"""

from __future__ import annotations

import enum


def is_ios(user_agent: str) -> bool:
    """livekit-client's ``getBrowser().os == "iOS"``: Firefox with ``fxios``, Chrome with ``crios``, Safari (or
    another WebKit) with ``mobile/`` in its user agent (case-insensitive; iPadOS Safari says it is a Mac: not iOS)."""
    ua = user_agent.lower()
    if "firefox" in ua or "iceweasel" in ua or "fxios" in ua:
        return "fxios" in ua
    if "chrom" in ua or "crios" in ua or "crmo" in ua:
        return "crios" in ua
    if "safari" in ua or "applewebkit" in ua:
        return "mobile/" in ua
    return False


class Action(enum.Enum):
    CREATE = "create"
    """Put the silent element on the page (playing) and listen to page visibility."""
    UNPLUG = "unplug"
    """``srcObject = null`` on the silent element (the page went hidden)."""
    PLUG = "plug"
    """Its silent stream back (the page is visible again)."""
    START_AUDIO = "start_audio"
    """Run ``start_audio()`` again (the page is visible again)."""
    REMOVE = "remove"
    """Remove the element and stop listening (the room disconnected)."""


class SilentAudioPolicy:
    """One room's silent element. ``ios`` False (every other platform): no action, ever."""

    def __init__(self, ios: bool) -> None:
        self.ios = ios
        self.created = False
        self.plugged = False

    def start_audio(self) -> list[Action]:
        """``start_audio()`` was called: on iOS the first call creates the element (it is then played with the
        attached remote audio elements in the same synchronous step)."""
        if not self.ios or self.created:
            return []
        self.created = self.plugged = True
        return [Action.CREATE]

    def visibility_changed(self, hidden: bool) -> list[Action]:
        if not self.created:
            return []
        if hidden:
            if not self.plugged:
                return []
            self.plugged = False
            return [Action.UNPLUG]
        self.plugged = True
        return [Action.PLUG, Action.START_AUDIO]

    def disconnected(self) -> list[Action]:
        if not self.created:
            return []
        self.created = self.plugged = False
        return [Action.REMOVE]
