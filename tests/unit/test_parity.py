"""Public API parity with livekit.rtc, as build/parity.py computes it from the installed ``livekit`` package.

Every public name of livekit.rtc's room/participant/track/publication classes, its enums, its top-level names and its
room events must exist in livekit_pyweb (not as a stub that only raises), unless build/parity.py's EXCEPTIONS table
allows it with an owner; and every allowance must still be needed. ``python build/parity.py`` prints the full report.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_BUILD = Path(__file__).resolve().parents[2] / "build"
if str(_BUILD) not in sys.path:
    sys.path.insert(0, str(_BUILD))

import parity  # noqa: E402


@pytest.fixture(scope="module")
def report() -> parity.Report:
    return parity.check()


def test_no_missing_names(report: parity.Report) -> None:
    missing = report.missing()
    listing = "\n".join(f"  [{e.category}] {e.key}" + (f"  -- {e.note}" if e.note else "") for e in missing)
    c = report.counts()
    if missing:
        pytest.fail(
            f"{len(missing)} livekit.rtc names missing from livekit_pyweb and not excepted "
            f"(parity {c['present']} of {c['total']}, {c['excepted']} excepted):\n{listing}",
            pytrace=False,
        )


def test_every_exception_is_still_needed(report: parity.Report) -> None:
    stale = report.stale()
    listing = "\n".join(f"  {e.key}  (owner: {e.rule.owner if e.rule else '?'})" for e in stale)
    if stale:
        pytest.fail(f"these excepted names exist in livekit_pyweb now; remove them from parity.EXCEPTIONS:\n{listing}",
                    pytrace=False)


def test_every_exception_pattern_matches_a_livekit_name(report: parity.Report) -> None:
    assert not report.unused_patterns, (
        "exception patterns that match no livekit.rtc name; remove them from parity.EXCEPTIONS:\n  "
        + "\n  ".join(report.unused_patterns)
    )


def test_each_excepted_name_has_one_owner(report: parity.Report) -> None:
    listing = "\n".join(f"  {k}: {' | '.join(v)}" for k, v in report.overlaps.items())
    assert not report.overlaps, f"names matched by more than one exception rule:\n{listing}"


def test_stub_detection() -> None:
    from livekit_pyweb.errors import UnsupportedError

    class Stubs:
        def raises_unsupported(self) -> None:
            """Documented, still a stub."""
            raise UnsupportedError("not in a browser")

        @property
        def raises_not_implemented(self) -> int:
            raise NotImplementedError

        def real(self) -> None:
            if self is None:
                raise NotImplementedError

    assert parity.stub_error(Stubs.raises_unsupported) == "UnsupportedError"
    assert parity.stub_error(Stubs.__dict__["raises_not_implemented"].fget) == "NotImplementedError"
    assert parity.stub_error(Stubs.real) is None


# -- signatures: where livekit.rtc's exact call shape matters (keyword-only arguments, names, defaults) --------------
def _shape(fn: object) -> list[tuple[str, str, object]]:
    import inspect

    return [(p.name, p.kind.name, p.default) for p in inspect.signature(fn).parameters.values()]  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["perform_rpc", "register_rpc_method", "unregister_rpc_method",
                                  "add_rpc_interceptor", "remove_rpc_interceptor"])
def test_rpc_methods_have_livekit_rtc_signatures(name: str) -> None:
    from livekit import rtc

    import livekit_pyweb

    assert _shape(getattr(livekit_pyweb.LocalParticipant, name)) == _shape(getattr(rtc.LocalParticipant, name))


def test_rpc_types_have_livekit_rtc_shapes() -> None:
    import dataclasses

    from livekit import rtc

    import livekit_pyweb

    assert _shape(livekit_pyweb.RpcError.__init__) == _shape(rtc.RpcError.__init__)
    for cls in ("RpcInvocationData", "RpcCallInfo"):
        ours, theirs = getattr(livekit_pyweb, cls), getattr(rtc, cls)
        assert [(f.name, f.default) for f in dataclasses.fields(ours)] == \
            [(f.name, f.default) for f in dataclasses.fields(theirs)], cls
    for method in ("intercept_outgoing", "intercept_incoming"):
        assert _shape(getattr(livekit_pyweb.RpcInterceptor, method)) == _shape(getattr(rtc.RpcInterceptor, method))
    assert {c.name: c.value for c in livekit_pyweb.RpcError.ErrorCode} == {c.name: c.value for c in rtc.RpcError.ErrorCode}
    error = livekit_pyweb.RpcError(2001, "m", "d")
    assert (error.code, error.message, error.data, str(error)) == (2001, "m", "d", "m")
