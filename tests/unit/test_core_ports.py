from livekit_pyweb._core.ports import TransportClosed


def test_transport_closed_names_its_code_and_reason():
    # This text reaches ConnectionError messages ("signal connection lost while joining: ...").
    bare = TransportClosed(1006)
    assert (bare.code, bare.reason, str(bare)) == (1006, "", "signal transport closed (code 1006)")
    kicked = TransportClosed(4000, "kicked")
    assert (kicked.code, kicked.reason, str(kicked)) == (4000, "kicked", "signal transport closed (code 4000, kicked)")
