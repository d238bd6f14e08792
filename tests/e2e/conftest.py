"""End-to-end rig: the real livekit-server (started by build/test.sh inside our network namespace), real
Chromium running livekit_pyweb in Pyodide, and interop peers (official Python SDK on CPython, livekit-client).

Nothing here is mocked and nothing is skipped: if the server is not up, every test fails and says how to start it.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

LIVEKIT_URL = os.environ.get("LIVEKIT_URL", "ws://127.0.0.1:7880")
API_KEY = os.environ.get("LIVEKIT_API_KEY", "devkey")
API_SECRET = os.environ.get("LIVEKIT_API_SECRET", "secret")
PEER_SCRIPT = Path(__file__).parent / "peers" / "py_peer.py"


def make_token(identity: str, room: str, *, secret: str = API_SECRET, name: str | None = None) -> str:
    from livekit import api

    return (
        api.AccessToken(API_KEY, secret)
        .with_identity(identity)
        .with_name(name or identity)
        .with_grants(api.VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=True))
        .to_jwt()
    )


@pytest.fixture(scope="session")
def livekit_server() -> str:
    http = LIVEKIT_URL.replace("ws://", "http://").replace("wss://", "https://")
    deadline = time.monotonic() + 10
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(http, timeout=2) as response:
                if response.status == 200:
                    return LIVEKIT_URL
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(0.3)
    pytest.fail(f"livekit-server is not answering at {http} ({last}); run the suite with build/test.sh", pytrace=False)


@pytest.fixture
def room_name() -> str:
    return f"e2e-{uuid.uuid4().hex[:8]}"


class PyPeer:
    """The official LiveKit Python SDK in a subprocess; its JSON-line events are collected as they arrive."""

    def __init__(self, identity: str, room: str, *, video: bool, audio: bool) -> None:
        self.identity = identity
        args = [sys.executable, str(PEER_SCRIPT), "--url", LIVEKIT_URL, "--token", make_token(identity, room),
                "--duration", "300"]
        if video:
            args.append("--publish-video")
        if audio:
            args.append("--publish-audio")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.events: list[dict[str, Any]] = []
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            self._queue.put(event)

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)

    def _drain(self) -> None:
        while True:
            try:
                self.events.append(self._queue.get_nowait())
            except queue.Empty:
                return

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float, what: str) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            self._drain()
            for event in self.events[seen:]:
                if event.get("event") == "error":
                    raise AssertionError(f"py peer error: {event}")
                if predicate(event):
                    return event
            seen = len(self.events)
            if time.monotonic() > deadline:
                tail = "".join(self._stderr[-20:])
                raise AssertionError(f"py peer: timed out after {timeout} s waiting for {what}; events: "
                                     f"{self.events[-15:]}; stderr tail: {tail}")
            if self.proc.poll() is not None and self._queue.empty():
                raise AssertionError(f"py peer exited ({self.proc.returncode}) waiting for {what}: "
                                     f"{''.join(self._stderr[-20:])}")
            time.sleep(0.1)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def py_peer(livekit_server: str) -> Iterator[Callable[..., PyPeer]]:
    peers: list[PyPeer] = []

    def start(identity: str, room: str, *, video: bool = True, audio: bool = True) -> PyPeer:
        """Start a peer and wait until it has joined."""
        peer = PyPeer(identity, room, video=video, audio=audio)
        peers.append(peer)
        peer.wait_for(lambda e: e["event"] == "connected", 30, f"the Python SDK peer {identity} to connect")
        return peer

    yield start
    for peer in peers:
        peer.close()


def run_py(selenium: Any, code: str) -> Any:
    """Run async Python in the page; the code's last expression must be a JSON string, returned decoded."""
    return json.loads(selenium.run_async(code))


class _V0OnlyProxy:
    """A TCP proxy to the real server that answers 404 for ``/rtc/v1…``, as a server from before ``/rtc/v1``.

    Everything else (``/rtc``, ``/rtc/validate``, WebSocket upgrades) is forwarded byte for byte.
    """

    NOT_FOUND = (b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nAccess-Control-Allow-Origin: *\r\n"
                 b"Content-Length: 19\r\nConnection: close\r\n\r\n404 page not found\n")

    def __init__(self, upstream_port: int) -> None:
        import asyncio

        self.upstream_port = upstream_port
        self.v1_requests = 0
        self.loop = asyncio.new_event_loop()
        self.port = 0
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait(5)

    def _run(self, ready: threading.Event) -> None:
        import asyncio

        asyncio.set_event_loop(self.loop)

        async def start() -> None:
            self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()

        self.loop.run_until_complete(start())
        self.loop.run_forever()

    async def _client(self, reader: Any, writer: Any) -> None:
        import asyncio

        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except Exception:
            writer.close()
            return
        path = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b""
        if path.startswith(b"/rtc/v1"):
            self.v1_requests += 1
            writer.write(self.NOT_FOUND)
            await writer.drain()
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        up_writer.write(head)

        async def pipe(src: Any, dst: Any) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def _shutdown(self) -> None:
        import asyncio

        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def close(self) -> None:
        import asyncio

        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture
def v0_only_server(livekit_server: str) -> Iterator[_V0OnlyProxy]:
    port = int(urllib.parse.urlsplit(livekit_server).port or 7880)
    proxy = _V0OnlyProxy(port)
    yield proxy
    proxy.close()


class _QuietHandler:
    """Serves dist/ with the right module/wasm types and logs nothing (page URLs carry tokens)."""

    @staticmethod
    def make(directory: Path) -> Any:
        import functools
        import http.server

        class Handler(http.server.SimpleHTTPRequestHandler):
            extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript",
                              ".wasm": "application/wasm"}

            def log_message(self, fmt: str, *args: object) -> None:
                pass

        return functools.partial(Handler, directory=str(directory))


def serve_dist() -> str:
    """Serve dist/ on 127.0.0.1 (a daemon thread); returns its base URL."""
    import http.server

    dist = Path(__file__).resolve().parents[2] / "dist"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _QuietHandler.make(dist))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="session")
def dist_url() -> str:
    return serve_dist()


class FirefoxPage:
    """One page in headless Firefox ESR (tests/e2e/firefox/drive.mjs); its window state arrives as JSON lines."""

    DRIVER = Path(__file__).parent / "firefox" / "drive.mjs"

    def __init__(self, url: str, state_var: str) -> None:
        root = Path(__file__).resolve().parents[2]
        self.proc = subprocess.Popen(["node", str(self.DRIVER), url, state_var], cwd=root, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.state: dict[str, Any] = {}
        self._stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self._stderr.extend(self.proc.stderr or []), daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self.state = json.loads(line) or {}
            except ValueError:
                continue

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float, what: str) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            state = self.state
            if state.get("state") == "error" or "driverError" in state:
                raise AssertionError(f"firefox page failed: {state}")
            if predicate(state):
                return state
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"firefox: waiting for {what} ({timeout} s): state={state}; "
                                     f"stderr tail: {''.join(self._stderr[-25:])}")
            time.sleep(0.2)

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def server_client_info(room: str, identity: str) -> dict[str, Any]:
    """The ClientInfo the server recorded for ``identity`` in ``room``, read from the server's own log.

    The server logs ``starting RTC session`` with ``participantInit.Client`` (build/with-server.sh exports
    LKPW_RUN_DIR, where server.log lives).
    """
    run_dir = os.environ.get("LKPW_RUN_DIR")
    assert run_dir, "LKPW_RUN_DIR is not set: run the e2e tests through build/test.sh"
    log = Path(run_dir) / "server.log"
    for line in log.read_text(errors="replace").splitlines():
        if "starting RTC session" not in line or f'"participant": "{identity}"' not in line:
            continue
        fields = json.loads(line[line.index("{"):])
        if fields.get("room") == room:
            return dict(fields["participantInit"]["Client"])
    raise AssertionError(f"no 'starting RTC session' for {identity} in {room} in {log}")
