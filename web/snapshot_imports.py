# What build/make_snapshot.mjs imports (in Pyodide on Node, at build time) before it takes the memory snapshot that
# web/loader.mjs restores, and what the loader imports itself when it boots without one: the modules a room imports
# on its way to the first remote frame (measured on the demo page). Only modules that touch no browser object at
# import time (`import js` is fine, `js.X` at module level is not): the snapshot is made on Node and restored in a
# page or a worker. Left out for that reason: livekit_pyweb._browser.media and .peer_connection (and .platform, which
# imports them) create JS functions at import (js.Function.new), which Pyodide 314 cannot put in a snapshot ("Can't
# serialize object").
import importlib.metadata

import livekit_pyweb
import livekit_pyweb._browser.host
import livekit_pyweb._browser._errors
import livekit_pyweb._browser.page
import livekit_pyweb._browser.websocket
import livekit_pyweb._core.codec
import livekit_pyweb._engine
import livekit_pyweb.room
from livekit_pyweb._core import proto

proto.rtc()
proto.models()
