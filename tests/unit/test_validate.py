import pytest

from livekit_pyweb._core.validate import error_from_validate
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


def test_token_in_server_answer_never_reaches_the_message():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4IiwidmlkZW8iOnt9fQ.c2lnbmF0dXJl-_x"
    err = error_from_validate(401, f"invalid token: {jwt}, error: go-jose/go-jose: error in cryptographic primitive")
    assert err.reason is R.NotAllowed
    assert "eyJ" not in str(err) and "<token>" in str(err) and "cryptographic" in str(err)
