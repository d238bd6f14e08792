"""Signalling URLs: the single-peer-connection ``/rtc/v1`` join and the legacy ``/rtc`` query form.

``/rtc/v1`` carries only ``access_token`` and ``join_request``: the base64url (``-_``, ``=`` padding kept, the
server decodes with Go's ``base64.URLEncoding``) of a ``WrappedJoinRequest`` whose ``join_request`` bytes are the
serialized ``JoinRequest``, gzip-compressed when ``compression = GZIP``.
The legacy ``/rtc`` form spells the same facts as query parameters (``auto_subscribe``, ``sdk``, ``reconnect``,
``sid``, ...). Both have a sibling ``…/validate`` endpoint that answers the same request over plain HTTP with the
status the WebSocket upgrade could not tell us.
"""

from __future__ import annotations

import base64
import gzip
import urllib.parse
from typing import Any

from ..errors import ConnectionError, ConnectionErrorReason
from . import proto
from .validate import redact_tokens

V1_PATH = "rtc/v1"
V0_PATH = "rtc"


def to_websocket_base(url: str) -> str:
    """Normalise a user's server URL (``ws[s]://`` or ``http[s]://``, any trailing slash) to a ws base URL.

    Raises:
        ConnectionError: reason ``InternalError`` for a URL that is not ws/wss/http/https with a host.
    """
    parts = urllib.parse.urlsplit(url.strip())
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise ConnectionError(
            f"invalid server URL {redact_url(url)!r}: expected ws://, wss://, http:// or https:// with a host",
            ConnectionErrorReason.InternalError,
        )
    path = parts.path.rstrip("/")
    return urllib.parse.urlunsplit((scheme, parts.netloc, path, "", ""))


def to_http_url(url: str) -> str:
    """The server's HTTP(S) URL for a user's server URL (livekit-client ``toHttpUrl``): ws → http, wss → https,
    no query (a token in it is dropped), for warming the connection up.

    Raises:
        ConnectionError: as :func:`to_websocket_base`.
    """
    base = to_websocket_base(url)
    parts = urllib.parse.urlsplit(base)
    scheme = "https" if parts.scheme == "wss" else "http"
    return urllib.parse.urlunsplit((scheme, parts.netloc, parts.path or "/", "", ""))


def _join(base: str, path: str) -> str:
    return f"{base}/{path}"


def encode_join_request(join_request: Any, *, compress: bool = True) -> str:
    """Serialize a ``JoinRequest`` into the ``join_request`` query value."""
    rtc = proto.rtc()
    raw = join_request.SerializeToString()
    wrapped = rtc.WrappedJoinRequest(
        compression=rtc.WrappedJoinRequest.GZIP if compress else rtc.WrappedJoinRequest.NONE,
        join_request=gzip.compress(raw, mtime=0) if compress else raw,
    )
    return base64.urlsafe_b64encode(wrapped.SerializeToString()).decode("ascii")


def decode_join_request(value: str) -> Any:
    """Inverse of :func:`encode_join_request` (used by tests and diagnostics)."""
    rtc = proto.rtc()
    wrapped = rtc.WrappedJoinRequest()
    wrapped.ParseFromString(base64.urlsafe_b64decode(value.encode("ascii")))
    raw = wrapped.join_request
    if wrapped.compression == rtc.WrappedJoinRequest.GZIP:
        raw = gzip.decompress(raw)
    request = rtc.JoinRequest()
    request.ParseFromString(raw)
    return request


def v1_url(base: str, token: str, join_request: Any, *, compress: bool = True) -> str:
    """The ``/rtc/v1`` WebSocket URL for a single-peer-connection join."""
    query = urllib.parse.urlencode(
        {"access_token": token, "join_request": encode_join_request(join_request, compress=compress)}
    )
    return f"{_join(base, V1_PATH)}?{query}"


def v0_url(
    base: str,
    token: str,
    *,
    client_fields: dict[str, str],
    auto_subscribe: bool = True,
    adaptive_stream: bool = False,
    reconnect_sid: str | None = None,
    reconnect_reason: int | None = None,
) -> str:
    """The legacy ``/rtc`` WebSocket URL (publisher + subscriber peer connections)."""
    params: dict[str, str] = {"access_token": token}
    if reconnect_sid:
        params["reconnect"] = "1"
        params["sid"] = reconnect_sid
    params["auto_subscribe"] = "1" if auto_subscribe else "0"
    params.update(client_fields)
    if adaptive_stream:
        params["adaptive_stream"] = "1"
    if reconnect_reason is not None:
        params["reconnect_reason"] = str(reconnect_reason)
    return f"{_join(base, V0_PATH)}?{urllib.parse.urlencode(params)}"


def validate_url(ws_url: str) -> str:
    """The HTTP ``…/validate`` URL for a signalling WebSocket URL (same query)."""
    parts = urllib.parse.urlsplit(ws_url)
    scheme = "https" if parts.scheme == "wss" else "http"
    return urllib.parse.urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/validate", parts.query, ""))


_SECRET_PARAMS = ("access_token", "join_request", "token")


def token_in_url(url: str) -> str:
    """The ``access_token`` a signalling URL carries, or ``""``."""
    try:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    except ValueError:
        return ""
    return query.get("access_token", [""])[0]


def redact_url(url: str) -> str:
    """``url`` with the token and the join request hidden, and any JWT elsewhere in it too: safe to log.

    A URL that does not parse, or one a user mixed up with the token (``connect(token, url)``), is redacted as
    text: nothing that looks like a token survives."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    if parts.query:
        query = [
            (k, "<redacted>" if k in _SECRET_PARAMS else v)
            for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        ]
        parts = parts._replace(query=urllib.parse.urlencode(query, safe="<>"))
    return redact_tokens(urllib.parse.urlunsplit(parts))
