"""Browser adapters: the only code in livekit_pyweb that imports ``js`` or ``pyodide``.

Each adapter owns the JS callbacks it registers (``create_proxy``) and destroys them when it closes.
:func:`live_proxy_count` counts the proxies this package holds right now, so tests can prove nothing leaks.
"""

from ._proxies import live_peer_connection_count, live_proxy_count

__all__ = ["live_proxy_count", "live_peer_connection_count"]
