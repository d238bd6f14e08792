"""Page visibility and audio, as livekit-client 2.x does it (``Room.startAudio``): only on iOS, a silent
``<audio>`` created by the first ``start_audio()`` and played with the remote audio elements, unplugged while the
page is hidden, plugged back and ``start_audio()`` re-run when it is visible again, removed on disconnect; on
every other platform page visibility does nothing to audio. The policy (``_core/audio_session.py``) and the room
on the port fakes (page visibility pushed by ``FakePlatform.set_hidden``)."""

from __future__ import annotations

from livekit_pyweb._core.audio_session import Action, SilentAudioPolicy, is_ios

from .fakes import FakePlatform, room_with_remote_audio

IPHONE_SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/18.5 Mobile/15E148 Safari/604.1")
IPHONE_CHROME = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "CriOS/138.0.7204.119 Mobile/15E148 Safari/604.1")
IPHONE_FIREFOX = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                  "FxiOS/140.0 Mobile/15E148 Safari/605.1.15")
IPAD_DESKTOP = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                "Version/18.5 Safari/605.1.15")  # iPadOS Safari asks for desktop sites: a Mac to livekit-client too
ANDROID_CHROME = ("Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/138.0.0.0 Mobile Safari/537.36")


def test_is_ios_as_livekit_client_parses_it():
    assert is_ios(IPHONE_SAFARI) and is_ios(IPHONE_CHROME) and is_ios(IPHONE_FIREFOX)
    for ua in (IPAD_DESKTOP, ANDROID_CHROME, FakePlatform.CHROME, FakePlatform.FIREFOX, ""):
        assert not is_ios(ua), ua


def test_the_policy():
    other = SilentAudioPolicy(ios=False)
    assert other.start_audio() == [] and other.visibility_changed(True) == [] and other.disconnected() == []
    ios = SilentAudioPolicy(ios=True)
    assert ios.visibility_changed(True) == []  # nothing before the first start_audio()
    assert ios.start_audio() == [Action.CREATE]
    assert ios.start_audio() == []  # once
    assert ios.visibility_changed(True) == [Action.UNPLUG]
    assert ios.visibility_changed(True) == []
    assert ios.visibility_changed(False) == [Action.PLUG, Action.START_AUDIO]
    assert ios.disconnected() == [Action.REMOVE] and ios.disconnected() == []
    assert ios.visibility_changed(False) == []


async def test_on_ios_the_silent_element_follows_page_visibility():
    platform = FakePlatform(ua=IPHONE_SAFARI)
    room, _socket, _pc, port, track = await room_with_remote_audio(platform)
    element = track.attach()
    assert platform.silent_calls == [] and platform.visibility_listeners == []  # nothing before start_audio()
    assert await room.start_audio() is True
    silent = platform.silent_element
    assert platform.silent_calls == ["create"] and platform.started_audio == [[silent, element]]
    [(_, listener)] = platform.visibility_listeners
    platform.set_hidden(True)
    assert platform.silent_calls == ["create", "unplug"] and len(platform.started_audio) == 1
    platform.set_hidden(False)  # visible again: plugged back, and start_audio() again (the same elements)
    assert platform.silent_calls == ["create", "unplug", "plug"]
    assert platform.started_audio == [[silent, element], [silent, element]]
    await room.start_audio()
    assert platform.silent_calls == ["create", "unplug", "plug"] and len(platform.visibility_listeners) == 1
    # a refusal after coming back shows in can_playback_audio as any other
    platform.autoplay_refused = True
    platform.set_hidden(True)
    platform.set_hidden(False)
    await room.start_audio()
    assert room.can_playback_audio is False
    await room.disconnect()
    assert platform.silent_calls[-1] == "remove" and platform.silent_element is None and listener.closed


async def test_elsewhere_page_visibility_does_nothing_to_audio():
    for ua in (FakePlatform.CHROME, ANDROID_CHROME, IPAD_DESKTOP):  # (Firefox: is_ios above)
        platform = FakePlatform(ua=ua)
        room, _socket, _pc, port, track = await room_with_remote_audio(platform)
        element = track.attach()
        assert await room.start_audio() is True
        assert platform.started_audio == [[element]]
        assert platform.silent_calls == [] and platform.visibility_listeners == []
        await room.disconnect()
        assert platform.silent_calls == []
