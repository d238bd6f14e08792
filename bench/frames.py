"""Capture the server's real signalling frames: a JoinResponse and a ParticipantUpdate, as the server sends them.

A raw signalling WebSocket (the legacy ``/rtc`` form, the server answers with a JoinResponse at once) joins a room
where the official Python SDK publishes video; the ``join`` frame is that JoinResponse (other_participants: the
publisher with its simulcast video track). A second raw socket joined before the publisher receives the
ParticipantUpdate frames that announce it; the largest one (the publisher with its track) is kept.

    build/with-server.sh $PY bench/frames.py OUT_DIR      writes OUT_DIR/join.bin and OUT_DIR/update.bin

Used by bench/decode.py (the per-message decode bench) and by tests/unit/data/ (the round-trip test's frames).
"""

from __future__ import annotations

import asyncio
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import LIVEKIT_URL, PyPeer, make_token  # noqa: E402


def _url(identity: str, room: str) -> str:
    query = {"access_token": make_token(identity, room), "auto_subscribe": "1", "protocol": "16",
             "sdk": "js", "version": "2.23.0"}
    return f"{LIVEKIT_URL}/rtc?{urllib.parse.urlencode(query)}"


async def _capture(room: str, publisher: str) -> dict[str, bytes]:
    import aiohttp

    from livekit.protocol import rtc

    def kind_of(data: bytes) -> tuple[str, object]:
        response = rtc.SignalResponse()
        response.ParseFromString(data)
        kind = response.WhichOneof("message") or ""
        return kind, getattr(response, kind) if kind else None

    async with aiohttp.ClientSession() as session:
        early = await session.ws_connect(_url("bench-early", room))
        peer = await asyncio.to_thread(PyPeer, publisher, room, video=True, audio=False)
        try:
            await asyncio.to_thread(peer.wait_for, lambda e: e["event"] == "track_published", 30, "the publisher")
            best = b""
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    msg = await early.receive(timeout=1)
                except TimeoutError:
                    if best:
                        break
                    continue
                if msg.type != aiohttp.WSMsgType.BINARY:
                    continue
                kind, value = kind_of(msg.data)
                if kind == "update" and any(p.identity == publisher and p.tracks for p in value.participants):
                    best = max(best, msg.data, key=len)
            if not best:
                raise RuntimeError("no ParticipantUpdate announcing the publisher's track")
            late = await session.ws_connect(_url("bench-late", room))
            msg = await late.receive(timeout=10)
            kind, value = kind_of(msg.data)
            if kind != "join" or not any(p.tracks for p in value.other_participants):
                raise RuntimeError(f"expected a JoinResponse listing the publisher's track, got {kind!r}")
            await late.close()
            await early.close()
            return {"join": msg.data, "update": best}
        finally:
            await asyncio.to_thread(peer.close)


def capture(room: str = "bench-frames") -> dict[str, bytes]:
    """``{"join": JoinResponse frame, "update": ParticipantUpdate frame}`` (whole SignalResponse bytes)."""
    return asyncio.run(_capture(room, "bench-publisher-frames"))


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, data in capture().items():
        (out / f"{name}.bin").write_bytes(data)
        print(f"{name}: {len(data)} bytes -> {out / (name + '.bin')}")
