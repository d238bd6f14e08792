# What build/make_snapshot.mjs imports (in Pyodide on Node, at build time) before it takes the memory snapshot that
# web/loader.mjs restores, and what the loader imports itself when it boots without one: the modules a room imports
# on its way to the first remote frame (measured on the demo page). Only modules that touch no browser object at
# import time (`import js` is fine, `js.X` at module level is not): the snapshot is made on Node and restored in a
# page or a worker (the shared JS helpers are compiled on first use: _browser/_proxies.py PageHelper; Pyodide 314 cannot put
# a JS object made at import in a snapshot: "Can't serialize object"). The main thread's platform and the worker's
# bridge are both here.
import importlib.metadata

import livekit_pyweb
import livekit_pyweb._browser.bridge
import livekit_pyweb._browser.host
import livekit_pyweb._browser.platform
import livekit_pyweb._core.codec
import livekit_pyweb._engine
import livekit_pyweb.room
from livekit_pyweb._core import proto

proto.rtc()
proto.models()
