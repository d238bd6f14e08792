"""Capturing tracks before (or without) a Room: livekit-client's ``createLocalTracks``, ``createLocalVideoTrack``,
``createLocalAudioTrack`` and ``createLocalScreenTracks``.

The tracks are published later with ``room.local_participant.publish_track(track, TrackPublishOptions(...))``.
They need a platform to capture on: by default the one a Room connecting on this page would use (``"auto"``: the
page's own APIs on the main thread, the worker bridge in a Web Worker), shared with the Rooms made afterwards so
that a track captured through the bridge is usable by them (across the bridge a track is a handle of one page-host
session). Pass ``platform=`` a Platform object to capture on that one (and give the same object to the Room).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._core import platforms
from .enums import TrackSource
from .options import AudioCaptureOptions, ScreenShareCaptureOptions, VideoCaptureOptions
from .track import LocalAudioTrack, LocalTrack, LocalVideoTrack

if TYPE_CHECKING:
    from ._core.ports import MediaTrackPort, Platform

__all__ = ["create_local_tracks", "create_local_video_track", "create_local_audio_track",
           "create_local_screen_tracks"]


async def _platform(platform: Platform | str) -> Any:
    if isinstance(platform, str):
        from . import room

        chosen: Any = platforms.for_tracks(platform, room.default_platform)
    else:
        chosen = platform
    await chosen.start()
    return chosen


def _release(ports: list[MediaTrackPort]) -> None:
    for port in ports:
        port.stop()
        port.release()


async def create_local_tracks(
    audio: bool | AudioCaptureOptions = True, video: bool | VideoCaptureOptions = True, *,
    platform: Platform | str = "auto",
) -> list[LocalTrack]:
    """Capture the microphone and/or the camera with one ``getUserMedia`` (one permission prompt); no Room is
    needed. ``True`` captures with the default options, an options object with those, ``False`` not at all.
    Returns the tracks (a :class:`LocalVideoTrack` with source ``SOURCE_CAMERA``, a :class:`LocalAudioTrack` with
    ``SOURCE_MICROPHONE``), not published; stop the ones you do not publish.

    Raises:
        ValueError: neither audio nor video asked for.
        DeviceError: capturing failed (permission, no device, device busy).
        UnsupportedError: no getUserMedia here and no page to reach.
    """
    constraints: dict[str, Any] = {}
    if video is not False:
        constraints["video"] = (video if isinstance(video, VideoCaptureOptions) else VideoCaptureOptions()).constraints()
    if audio is not False:
        constraints["audio"] = (audio if isinstance(audio, AudioCaptureOptions) else AudioCaptureOptions()).constraints()
    if not constraints:
        raise ValueError("create_local_tracks needs audio or video (or both)")
    chosen = await _platform(platform)
    ports = await chosen.get_user_media(constraints)
    tracks: list[LocalTrack] = []
    extra: list[MediaTrackPort] = []
    for port in ports:
        if port.kind in constraints and not any(t._port.kind == port.kind for t in tracks):
            track: LocalTrack = LocalVideoTrack(port) if port.kind == "video" else LocalAudioTrack(port)
            track._platform = chosen  # restart_track / switch_active_device capture again there
            track._constraints = dict(constraints[port.kind])
            tracks.append(track)
        else:  # more than was asked for
            extra.append(port)
    _release(extra)
    return tracks


async def create_local_video_track(
    options: VideoCaptureOptions | None = None, *, platform: Platform | str = "auto"
) -> LocalVideoTrack:
    """Capture the camera (see :func:`create_local_tracks`)."""
    tracks = await create_local_tracks(audio=False, video=options or True, platform=platform)
    track = tracks[0]
    assert isinstance(track, LocalVideoTrack)
    return track


async def create_local_audio_track(
    options: AudioCaptureOptions | None = None, *, platform: Platform | str = "auto"
) -> LocalAudioTrack:
    """Capture the microphone (see :func:`create_local_tracks`)."""
    tracks = await create_local_tracks(audio=options or True, video=False, platform=platform)
    track = tracks[0]
    assert isinstance(track, LocalAudioTrack)
    return track


async def create_local_screen_tracks(
    options: ScreenShareCaptureOptions | None = None, *, platform: Platform | str = "auto"
) -> list[LocalTrack]:
    """Capture a screen, window or tab (``getDisplayMedia``; only within a user activation, see
    ``LocalParticipant.set_screen_share_enabled``): the video as ``SOURCE_SCREENSHARE``, its audio as
    ``SOURCE_SCREENSHARE_AUDIO`` when ``options.audio`` asks. A published screen track the user stops sharing is
    unpublished.

    Raises:
        DeviceError: refused or cancelled (``PermissionDenied``), or no user activation.
        UnsupportedError: no getDisplayMedia here.
    """
    options = options or ScreenShareCaptureOptions()
    ports = await (await _platform(platform)).get_display_media(options.constraints())
    video = next((p for p in ports if p.kind == "video"), None)
    audio = next((p for p in ports if p.kind == "audio"), None) if options.audio else None
    _release([p for p in ports if p is not video and p is not audio])
    tracks: list[LocalTrack] = []
    if video is not None:
        tracks.append(LocalVideoTrack(video, TrackSource.SOURCE_SCREENSHARE))
    if audio is not None:
        tracks.append(LocalAudioTrack(audio, TrackSource.SOURCE_SCREENSHARE_AUDIO))
    return tracks
