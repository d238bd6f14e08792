"""Turning a failed WebSocket into a precise :class:`~livekit_pyweb.errors.ConnectionError`.

A browser WebSocket that fails to open tells us nothing (no status, no body). Like livekit-client, we then GET
the sibling ``…/validate`` URL with the same query and map its answer:

=====================  ==================================================================
validate answer         reason
=====================  ==================================================================
no HTTP answer          ``ServerUnreachable``
401 / 403               ``NotAllowed`` (bad or expired token, missing grant)
404 + "room does not    ``NotAllowed``
exist"
404 otherwise           ``ServiceNotFound`` (no ``/rtc/v1`` here: fall back to ``/rtc``)
5xx                     ``InternalError``
anything else           ``InternalError`` ("the WebSocket failed although validate passed")
=====================  ==================================================================
"""

from __future__ import annotations

import re

from ..errors import ConnectionError, ConnectionErrorReason

# livekit-server's 401 body for a bad signature repeats the whole token ("invalid token: <JWT>, error: ...").
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*")


def redact_tokens(text: str) -> str:
    """``text`` with every JWT replaced by ``<token>``: safe for messages and logs."""
    return _JWT.sub("<token>", text)


def error_from_validate(status: int | None, body: str = "", detail: str = "") -> ConnectionError:
    """The error to raise for a WebSocket that failed, given the ``validate`` response.

    Args:
        status: the HTTP status, or ``None`` when the request got no answer at all.
        body: the response text (the server's reason, e.g. "invalid token ..."); tokens in it are redacted.
        detail: what the WebSocket failure itself said, for the message.
    """
    text = redact_tokens(body.strip())[:300]
    if status is None:
        return ConnectionError(
            f"server unreachable{': ' + detail if detail else ''}", ConnectionErrorReason.ServerUnreachable
        )
    if status in (401, 403):
        return ConnectionError(
            f"not allowed to join (HTTP {status}){': ' + text if text else ''}",
            ConnectionErrorReason.NotAllowed,
            status,
        )
    if status == 404:
        if "requested room does not exist" in text:
            return ConnectionError(f"not allowed to join: {text}", ConnectionErrorReason.NotAllowed, status)
        return ConnectionError(
            "the server has no /rtc/v1 endpoint (HTTP 404)", ConnectionErrorReason.ServiceNotFound, status
        )
    if status >= 500:
        return ConnectionError(
            f"server error (HTTP {status}){': ' + text if text else ''}", ConnectionErrorReason.InternalError, status
        )
    return ConnectionError(
        f"the signalling WebSocket failed although validate answered HTTP {status}"
        f"{': ' + detail if detail else ''}",
        ConnectionErrorReason.InternalError,
        status,
    )
