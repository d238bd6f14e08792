from livekit_pyweb._core.validate import error_from_validate, redact_tokens
from livekit_pyweb.errors import ConnectionErrorReason as R


def test_a_5xx_answer_carries_the_server_text():
    for status in (500, 503):
        err = error_from_validate(status, "database down", detail="ws closed")
        assert err.reason is R.InternalError and err.status == status
        assert "database down" in str(err)


def test_secret_pieces_are_hidden_from_eight_characters_on():
    # A token segment is far longer; shorter pieces are kept so that ordinary words survive.
    assert redact_tokens("key abcdefgh end", "abcdefgh") == "key <token> end"
    assert redact_tokens("key abcdefg end", "abcdefg") == "key abcdefg end"
