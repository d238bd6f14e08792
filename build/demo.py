"""Serve the demo: dist/ (Pyodide + our wheel + web/) on http://127.0.0.1:8000 plus ``/token`` for dev tokens.

    python build/demo.py [--port 8000] [--livekit-url ws://127.0.0.1:7880] [--room demo]

``/token?room=R&identity=I`` answers ``{"url": ..., "token": ...}`` signed with the development keys
(devkey/secret), so the printed page URL carries no token. Serves only 127.0.0.1.

dist/ is served as build/dist_http.py says (the tests and benches serve it the same way): content-named files
immutable, the rest revalidated; the Pyodide snapshot zstd-encoded where the browser takes it; ``/pyscript/``
cross-origin isolated.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import secrets
import sys
import urllib.parse
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dist_http import DistRequestHandler  # noqa: E402  (build/dist_http.py: caching, encodings, isolation)

ROOT = Path(__file__).resolve().parent.parent


def make_handler(dist: Path, livekit_url: str, key: str, secret: str) -> type[http.server.SimpleHTTPRequestHandler]:
    class Handler(DistRequestHandler):
        extensions_map = {**DistRequestHandler.extensions_map, ".whl": "application/zip"}

        def do_GET(self) -> None:  # noqa: N802
            parts = urllib.parse.urlsplit(self.path)
            if parts.path != "/token":
                return super().do_GET()
            from livekit import api

            query = dict(urllib.parse.parse_qsl(parts.query))
            room = query.get("room") or "demo"
            identity = query.get("identity") or f"guest-{secrets.token_hex(3)}"
            token = (
                api.AccessToken(key, secret)
                .with_identity(identity)
                .with_name(identity)
                .with_grants(api.VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=True,
                                             can_publish_data=True))
                .to_jwt()
            )
            body = json.dumps({"url": livekit_url, "token": token}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def cache_header(self, path: str) -> str | None:
            return None if path == "/token" else super().cache_header(path)  # the token answer says no-store itself

        def log_message(self, fmt: str, *args: object) -> None:
            # Never echo query strings: a page URL may carry a token.
            path = urllib.parse.urlsplit(getattr(self, "path", "")).path
            super().log_message("%s %s", self.command or "-", path)

    return partial(Handler, directory=str(dist))  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("LKPW_DEMO_PORT", "8000")))
    parser.add_argument("--livekit-url", default=os.environ.get("LIVEKIT_URL", "ws://127.0.0.1:7880"))
    parser.add_argument("--room", default="demo")
    args = parser.parse_args()
    dist = ROOT / "dist"
    if not (dist / "pyodide-lock.json").is_file():
        raise SystemExit("dist/ is missing: run build/setup.sh (or build/demo.sh) first")
    handler = make_handler(dist, args.livekit_url, os.environ.get("LIVEKIT_API_KEY", "devkey"),
                           os.environ.get("LIVEKIT_API_SECRET", "secret"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    room = urllib.parse.quote(args.room)
    print(f"demo: open http://127.0.0.1:{args.port}/?room={room}  (livekit_pyweb in Pyodide)", flush=True)
    print(f"demo: and    http://127.0.0.1:{args.port}/js-peer.html?room={room}  (livekit-client, same room)", flush=True)
    print(f"demo: and    http://127.0.0.1:{args.port}/pyscript/main.html?room={room}  (PyScript, main thread)",
          flush=True)
    print(f"demo: and    http://127.0.0.1:{args.port}/pyscript/worker.html?room={room}  (PyScript, in a worker)",
          flush=True)
    if (dist / "lite" / "jupyter-lite.json").is_file():  # build/build_lite.py
        print(f"demo: and    http://127.0.0.1:{args.port}/lite/notebooks/index.html?path=livekit.ipynb  (JupyterLite "
              f"notebook; it joins the room named in its first cell)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
