"""End-to-end rig: the real livekit-server (started by build/test.sh inside our network namespace), real
Chromium running livekit_pyweb in Pyodide, and interop peers (official Python SDK on CPython, livekit-client).

Nothing here is mocked and nothing is skipped: if the server is not up, every test fails and says how to start it.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

LIVEKIT_URL = os.environ.get("LIVEKIT_URL", "ws://127.0.0.1:7880")
API_KEY = os.environ.get("LIVEKIT_API_KEY", "devkey")
API_SECRET = os.environ.get("LIVEKIT_API_SECRET", "secret")
PEER_SCRIPT = Path(__file__).parent / "peers" / "py_peer.py"
ROOT_DIR = Path(__file__).resolve().parents[2]

# Audio levels as py_peer.py measures them: the peak |sample| of a 0.5 s window, as a fraction of full scale.
# Measured here, Opus through the server: Chromium 156's fake microphone captured raw (see page.RAW_MIC) peaks at 1.0
# in every window (full-scale beeps); Firefox ESR's fake microphone is a steady tone peaking at 0.10 (RMS 0.07); a
# track muted with MediaStreamTrack.enabled = false gives exactly 0.0 in every window, the first window after
# unmuting 3e-05. (With Chromium's echo cancellation, noise suppression and gain control on, beep windows fell to
# 0.16-0.25 and windows between beeps to 1e-04 - one reason to capture raw.) Loud sits 3x under the quietest
# source, silent 30x under loud.
AUDIO_LOUD_PEAK = 0.03
AUDIO_SILENT_PEAK = 0.001


def make_token(identity: str, room: str, *, secret: str = API_SECRET, name: str | None = None,
               kind: str | None = None, can_update_own_metadata: bool = False) -> str:
    """``kind="agent"``: the participant joins as an agent (the server forwards only an agent's transcription
    packets: livekit-server ``handleReceivedDataMessage``). ``can_update_own_metadata``: it may set its own
    metadata, name and attributes."""
    from livekit import api

    token = (
        api.AccessToken(API_KEY, secret)
        .with_identity(identity)
        .with_name(name or identity)
        .with_grants(api.VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=True,
                                     can_update_own_metadata=can_update_own_metadata))
    )
    if kind is not None:
        token = token.with_kind(kind)
    return token.to_jwt()


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

    def __init__(self, identity: str, room: str, *, video: bool, audio: bool, kind: str | None = None,
                 can_update_own_metadata: bool = False) -> None:
        self.identity = identity
        token = make_token(identity, room, kind=kind, can_update_own_metadata=can_update_own_metadata)
        args = [sys.executable, str(PEER_SCRIPT), "--url", LIVEKIT_URL, "--token", token,
                "--duration", "300"]
        if video:
            args.append("--publish-video")
        if audio:
            args.append("--publish-audio")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.events: list[dict[str, Any]] = []
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._next_id = 0
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

    def mark(self) -> int:
        """The number of events received so far: pass it as ``since`` to look only at what comes after."""
        self._drain()
        return len(self.events)

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float, what: str, *,
                 since: int = 0) -> dict[str, Any]:
        """The first event (at index ``since`` or later) matching ``predicate``; fails after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        seen = since
        while True:
            self._drain()
            for event in self.events[seen:]:
                if event.get("event") == "error":
                    raise AssertionError(f"py peer error: {event}")
                if predicate(event):
                    return event
            seen = max(seen, len(self.events))
            if time.monotonic() > deadline:
                tail = "".join(self._stderr[-20:])
                raise AssertionError(f"py peer: timed out after {timeout} s waiting for {what}; events: "
                                     f"{self._tail(since)}; stderr tail: {tail}")
            if self.proc.poll() is not None and self._queue.empty():
                raise AssertionError(f"py peer exited ({self.proc.returncode}) waiting for {what}: "
                                     f"{''.join(self._stderr[-20:])}")
            time.sleep(0.1)

    def _tail(self, since: int = 0, n: int = 25) -> list[dict[str, Any]]:
        """The last ``n`` events from ``since`` on, leaving out the periodic frame counts."""
        return [e for e in self.events[since:] if e["event"] != "frames"][-n:]

    def send(self, cmd: str, timeout: float = 15, **fields: Any) -> dict[str, Any]:
        """Send a command (py_peer.py's stdin protocol) and return its "done" event; a failed command fails."""
        self._next_id += 1
        cid = self._next_id
        since = self.mark()
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"id": cid, "cmd": cmd, **fields}) + "\n")
        self.proc.stdin.flush()
        answer = self.wait_for(lambda e: e.get("id") == cid and e["event"] in ("done", "command_failed"), timeout,
                               f"the answer to {cmd} {fields}", since=since)
        if answer["event"] != "done":
            raise AssertionError(f"py peer command {cmd} {fields} failed: {answer}")
        return answer

    # -- audio by content (py_peer.py "audio_level" events, one per 0.5 s window and subscribed audio track) --
    def levels(self, participant: str, since: int = 0) -> list[dict[str, Any]]:
        self._drain()
        return [e for e in self.events[since:] if e["event"] == "audio_level" and e["participant"] == participant]

    def wait_audio(self, participant: str, *, loud: bool, windows: int, timeout: float, since: int = 0,
                   what: str = "") -> int:
        """Wait until ``participant``'s audio, as the peer measures it from event index ``since`` on, is loud or
        silent; returns the index just after the window that decided it.

        Loud: ``windows`` windows (not necessarily consecutive: the fake microphone's beeps leave some 0.5 s windows
        quiet) whose peak is at least AUDIO_LOUD_PEAK. Silent: ``windows`` consecutive windows with frames whose
        peak is at most AUDIO_SILENT_PEAK (longer than any gap between beeps).
        """
        deadline = time.monotonic() + timeout
        while True:
            self._drain()
            run = 0
            for index in range(since, len(self.events)):
                e = self.events[index]
                if e["event"] != "audio_level" or e["participant"] != participant:
                    continue
                if loud:
                    run += e["peak"] >= AUDIO_LOUD_PEAK
                else:
                    run = run + 1 if e["frames"] > 0 and e["peak"] <= AUDIO_SILENT_PEAK else 0
                if run >= windows:
                    return index + 1
            if time.monotonic() > deadline:
                peaks = [(e["t"], e["peak"], e["frames"]) for e in self.levels(participant, since)]
                raise AssertionError(
                    f"py peer: no {windows} {'loud' if loud else 'consecutive silent'} 0.5 s windows of "
                    f"{participant}'s audio within {timeout} s ({what}); (t, peak, frames) seen: {peaks[-30:]}")
            if self.proc.poll() is not None and self._queue.empty():
                raise AssertionError(f"py peer exited ({self.proc.returncode}) waiting for {what}")
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

    def start(identity: str, room: str, *, video: bool = True, audio: bool = True, kind: str | None = None,
              can_update_own_metadata: bool = False) -> PyPeer:
        """Start a peer and wait until it has joined (``kind="agent"``: as an agent; ``can_update_own_metadata``:
        its token lets it set its own metadata, name and attributes, py_peer's ``set_state``)."""
        peer = PyPeer(identity, room, video=video, audio=audio, kind=kind,
                      can_update_own_metadata=can_update_own_metadata)
        peers.append(peer)
        peer.wait_for(lambda e: e["event"] == "connected", 30, f"the Python SDK peer {identity} to connect")
        return peer

    yield start
    for peer in peers:
        peer.close()


def room_service(call: Callable[[Any], Awaitable[Any]], url: str = LIVEKIT_URL) -> Any:
    """Run ``call(lkapi)`` with a livekit-api ``LiveKitAPI`` client (the server API, devkey/secret); returns its
    result. E.g. ``room_service(lambda lk: lk.room.update_room_metadata(api.UpdateRoomMetadataRequest(...)))``."""
    from livekit import api

    async def run() -> Any:
        async with api.LiveKitAPI(url.replace("ws://", "http://"), API_KEY, API_SECRET) as lk:
            return await call(lk)

    return asyncio.run(run())


class PrivateServer:
    """A livekit-server of a test's own, in the same network namespace as the shared one but on other ports (HTTP
    ``port``, ``port + 1`` TCP ICE, ``port + 2`` UDP ICE), so that a test may pause or kill it. Started as
    build/server.sh starts the shared one: the same binary, flags and config apart from the ports (and
    ``rtc_extra``: YAML lines added under ``rtc:``, e.g. ``congestion_control: {allow_pause: true}``)."""

    def __init__(self, port: int, run_dir: Path, rtc_extra: tuple[str, ...] = ()) -> None:
        root = Path(__file__).resolve().parents[2]
        binary = subprocess.run(["bash", str(root / "build" / "server.sh"), "path"], check=True, text=True,
                                capture_output=True).stdout.strip().splitlines()[-1]
        config = (root / "build" / "livekit.yaml").read_text()
        for key, shared, own in (("port", 7880, port), ("tcp_port", 7881, port + 1), ("udp_port", 7882, port + 2)):
            config, n = re.subn(rf"(?m)^(\s*){key}: {shared}$", rf"\g<1>{key}: {own}", config)
            assert n == 1, f"build/livekit.yaml: expected one '{key}: {shared}' line"
        if rtc_extra:
            config, n = re.subn(r"(?m)^rtc:$", "rtc:\n" + "".join(f"  {line}\n" for line in rtc_extra).rstrip("\n"),
                                config)
            assert n == 1, "build/livekit.yaml: expected one 'rtc:' line"
        run_dir.mkdir(parents=True, exist_ok=True)
        config_path = run_dir / "livekit.yaml"
        config_path.write_text(config)
        self.log_path = run_dir / "server.log"
        self.url = f"ws://127.0.0.1:{port}"
        self.http = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(LIVEKIT_URL.replace("ws://", "http://"), timeout=2):
            pass  # the shared server is up (the namespace is ours)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [binary, "--dev", "--bind", "127.0.0.1", "--node-ip", "127.0.0.1", "--config", str(config_path)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while not self.answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise AssertionError(f"private livekit-server on port {port} did not come up: {self.log_tail()}")
            time.sleep(0.1)

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.http, timeout=1) as response:
                return response.status == 200
        except Exception:
            return False

    def log_tail(self, n: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def pause(self) -> None:
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)

    def close(self) -> None:
        if self.proc.poll() is not None:
            return
        self.resume()
        self.proc.terminate()  # 1st SIGTERM drains, the 2nd forces (as build/server.sh stop)
        time.sleep(0.2)
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture
def private_server(livekit_server: str, tmp_path: Path) -> Iterator[PrivateServer]:
    """A livekit-server of this test's own (see PrivateServer); stopped afterwards, even if the test paused it."""
    server = PrivateServer(7980, tmp_path / "private-server")
    yield server
    server.close()


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


def _dist_http() -> Any:
    """build/dist_http.py: how build/demo.py serves dist/, which the tests and benches serve the same way."""
    import importlib.util

    module = sys.modules.get("lkpw_dist_http")
    if module is None:
        spec = importlib.util.spec_from_file_location("lkpw_dist_http", ROOT_DIR / "build" / "dist_http.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["lkpw_dist_http"] = module
        spec.loader.exec_module(module)
    return module


def dist_handler(directory: Path, encode_snapshot: bool = True) -> Any:
    """A request handler serving `directory` as build/demo.py serves dist/ (build/dist_http.py), logging nothing (page
    URLs carry tokens); ``encode_snapshot=False``: the snapshot file as it is, as a plain static server sends it."""
    import functools

    base = _dist_http().DistRequestHandler

    class Handler(base):  # type: ignore[misc, valid-type]
        def log_message(self, fmt: str, *args: object) -> None:
            pass

    Handler.encode_snapshot = encode_snapshot
    return functools.partial(Handler, directory=str(directory))


def serve_dist(folder: Path | None = None, encode_snapshot: bool = True) -> str:
    """Serve dist/ (or another folder laid out like it) on 127.0.0.1 (a daemon thread); returns its base URL."""
    import http.server

    dist = folder or ROOT_DIR / "dist"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), dist_handler(dist, encode_snapshot))
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
        self._replies: queue.Queue[dict[str, Any]] = queue.Queue()
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self._stderr.extend(self.proc.stderr or []), daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                message = json.loads(line) or {}
            except ValueError:
                continue
            if isinstance(message, dict) and "reply" in message:
                self._replies.put(message)
            else:
                self.state = message

    def evaluate(self, body: str, timeout: float = 60) -> Any:
        """Run ``body`` as the body of an async JS function in the page; what it returns (JSON-serialisable).
        A JS exception raises AssertionError with its message."""
        assert self.proc.stdin is not None
        self._next_id += 1
        self.proc.stdin.write(json.dumps({"id": self._next_id, "js": body}) + "\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = self._replies.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"firefox: no reply to {body[:200]!r} in {timeout} s; "
                                         f"stderr tail: {''.join(self._stderr[-25:])}") from None
                continue
            if reply["reply"] != self._next_id:
                continue  # a reply to an earlier call that timed out
            if "error" in reply:
                raise AssertionError(f"firefox: {reply['error']}")
            return reply["value"]

    def run_py(self, code: str, timeout: float = 60) -> Any:
        """Run async Python in the page's Pyodide (``window.lkpwPyodide``, as dist/bare.html and index.html keep
        it); the code's last expression must be a JSON string, returned decoded (as :func:`run_py` in Chromium)."""
        return json.loads(self.evaluate(f"return await window.lkpwPyodide.runPythonAsync({json.dumps(code)});",
                                        timeout))

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


def server_saw_leave(room: str, identity: str) -> bool:
    """Whether the server's log (debug level) shows a client-initiated LeaveRequest from ``identity`` in ``room``."""
    run_dir = os.environ.get("LKPW_RUN_DIR")
    assert run_dir, "LKPW_RUN_DIR is not set: run the e2e tests through build/test.sh"
    for line in (Path(run_dir) / "server.log").read_text(errors="replace").splitlines():
        if ("received signal request" in line and f'"participant": "{identity}"' in line
                and f'"room": "{room}"' in line and '"leave": {"reason": "CLIENT_INITIATED"' in line):
            return True
    return False


def server_client_info(room: str, identity: str) -> dict[str, Any]:
    """The ClientInfo the server recorded for ``identity`` in ``room``, read from the server's own log.

    The server logs ``starting RTC session`` with ``participantInit.Client`` (build/with-server.sh exports
    LKPW_RUN_DIR, where server.log lives). A failure shows every log line of that identity it looked at.
    """
    run_dir = os.environ.get("LKPW_RUN_DIR")
    assert run_dir, "LKPW_RUN_DIR is not set: run the e2e tests through build/test.sh"
    log = Path(run_dir) / "server.log"
    seen: list[str] = []
    for line in log.read_text(errors="replace").splitlines():
        if f'"participant": "{identity}"' not in line:
            continue
        seen.append(line)
        if "starting RTC session" not in line:
            continue
        try:
            fields = json.loads(line[line.index("{"):])
        except ValueError as exc:
            raise AssertionError(f"{log}: 'starting RTC session' for {identity} is not JSON after its first '{{' "
                                 f"({exc}): {line}") from None
        if fields.get("room") != room:
            continue
        try:
            return dict(fields["participantInit"]["Client"])
        except (KeyError, TypeError) as exc:
            raise AssertionError(f"{log}: 'starting RTC session' for {identity} in {room} has no "
                                 f"participantInit.Client ({exc!r}): {line}") from None
    starts = [line for line in seen if "starting RTC session" in line]
    if starts:  # sessions of that identity, but in other rooms
        what, shown = f"its {len(starts)} 'starting RTC session' lines (other rooms)", starts[-10:]
    elif len(seen) > 20:
        what, shown = f"the first and last 10 of its {len(seen)} lines", seen[:10] + ["..."] + seen[-10:]
    else:
        what, shown = f"its {len(seen)} lines", seen
    listing = "\n".join(line[:600] for line in shown) or "(none)"
    raise AssertionError(f"no 'starting RTC session' for {identity} in room {room} in {log}; {what}:\n{listing}")
