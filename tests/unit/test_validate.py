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
