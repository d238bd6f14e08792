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
# A JWT is three base64url segments; the first two start with "eyJ" ('{"' encoded).
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?")
# A token's segments are at least this long; shorter pieces are not worth hiding (and would hide common words).
_MIN_SECRET_PART = 8


def redact_tokens(text: str, *secrets: str) -> str:
    """``text`` with every JWT, and every known secret or any of its dot-separated segments (the signature alone
    identifies a token), replaced by ``<token>``: safe for messages and logs."""
    for secret in secrets:
        if not secret:
            continue
        pieces = sorted({secret, *secret.split(".")}, key=len, reverse=True)
        for piece in pieces:
            if len(piece) >= _MIN_SECRET_PART:
                text = text.replace(piece, "<token>")
    return _JWT.sub("<token>", text)


def error_from_validate(status: int | None, body: str = "", detail: str = "", token: str = "") -> ConnectionError:
    """The error to raise for a WebSocket that failed, given the ``validate`` response.

    Args:
        status: the HTTP status, or ``None`` when the request got no answer at all.
        body: the response text (the server's reason, e.g. "invalid token ..."); tokens in it are redacted.
        detail: what the WebSocket failure itself said, for the message.
        token: the access token of the attempt: never repeated, whole or in part.
    """
    detail = redact_tokens(detail, token)
    text = redact_tokens(body.strip(), token)[:300]
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
