import pytest

from livekit_pyweb._core.validate import error_from_validate, redact_tokens
from livekit_pyweb.errors import ConnectionErrorReason as R


@pytest.mark.parametrize(
    "status, body, reason",
    [
        (None, "", R.ServerUnreachable),
        (401, "invalid token: signature is invalid", R.NotAllowed),
        (403, "", R.NotAllowed),
        (404, "requested room does not exist", R.NotAllowed),
        (404, "404 page not found", R.ServiceNotFound),
        (500, "boom", R.InternalError),
        (503, "", R.InternalError),
        (200, "success", R.InternalError),
    ],
)
def test_validate_reasons(status, body, reason):
    err = error_from_validate(status, body)
    assert err.reason is reason
    assert err.status == status


def _real_token() -> str:
    from livekit import api

    return (api.AccessToken("devkey", "secret").with_identity("alice")
            .with_grants(api.VideoGrants(room_join=True, room="r")).to_jwt())


def assert_no_token_part(text: str, token: str) -> None:
    """Neither the token nor any of its three segments (header, claims, signature) appears in ``text``."""
    assert token not in text
    for part in token.split("."):
        assert part not in text, f"token segment {part[:6]}… leaked into {text!r}"


def test_token_in_server_answer_never_reaches_the_message():
    token = _real_token()
    # livekit-server's answer to a bad signature repeats the token; the message keeps the server's reason.
    err = error_from_validate(401, f"invalid token: {token}, error: go-jose/go-jose: error in cryptographic primitive",
                              token=token)
    assert err.reason is R.NotAllowed
    assert str(err) == ("not allowed to join (HTTP 401): invalid token: <token>, error: go-jose/go-jose: error in "
                        "cryptographic primitive")
    assert_no_token_part(str(err), token)


@pytest.mark.parametrize("echo", [
    "signature {sig} is invalid",                 # the signature alone, no "eyJ" prefix to spot
    "claims {claims}",
    "token {token}",
    "token {token_no_sig}.",                      # a JWT cut before its signature
])
@pytest.mark.parametrize("status", [401, 500, 200])
def test_no_part_of_the_token_survives_any_echo(echo, status):
    token = _real_token()
    header, claims, sig = token.split(".")
    body = echo.format(sig=sig, claims=claims, token=token, token_no_sig=f"{header}.{claims}")
    err = error_from_validate(status, body, detail=f"closed: {token}", token=token)
    assert_no_token_part(str(err), token)
    assert_no_token_part(repr(err), token)


def test_jwts_are_redacted_even_when_the_token_is_unknown():
    other = _real_token()
    assert redact_tokens(f"a {other} b") == "a <token> b"
    assert redact_tokens("short words stay. so do dotted.names") == "short words stay. so do dotted.names"
