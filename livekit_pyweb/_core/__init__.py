"""Sans-IO core of livekit_pyweb: protocol, state machines and models. Imports no ``js``, no asyncio I/O.

Every clock reading is an argument (``now``, seconds, monotonic); adapters own timers and sockets.
"""
