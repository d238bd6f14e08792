"""Targeted breaks: each case breaks one shipped behaviour in a scratch copy of the package and checks that the
unit tests named for it fail (run by hand: python build/break_check.py [NAME-FRAGMENT...]). The working tree is never
touched. build/mutate.py does the same blindly, for every mutant of _core."""
import shutil, subprocess, sys, tempfile, pathlib
ROOT = pathlib.Path(__file__).resolve().parents[1]
PY = str(pathlib.Path.home() / ".cache/livekit-pyweb/venv/bin/python")
CASES = [
 ("keepalive loop not started", "livekit_pyweb/_engine.py", "        self._spawn(self._keepalive_loop())\n", "", "keepalive or ping_timeout"),
 ("join/signal timeouts swapped", "livekit_pyweb/_engine.py", "timeouts(options.signal_timeout, options.join_timeout,", "timeouts(options.join_timeout, options.signal_timeout,", "signal_timeout or join_timeout"),
 ("publish timeout ignored", "livekit_pyweb/_engine.py", "asyncio.timeout(self.options.publish_timeout)", "asyncio.timeout(10.0)", "publish_timeout"),
 ("PC failure ignored", "livekit_pyweb/_engine.py", '        elif state == "failed":\n', '        elif state == "failed-never":\n', "failure_disconnects"),
 ("no renegotiation after answer", "livekit_pyweb/_engine.py", "        if self.queue.should_renegotiate:\n            self._spawn(self.negotiate())\n", "", "offer_in_flight"),
 ("page-hide listener left open", "livekit_pyweb/_engine.py", "                handle.close()\n", "                pass\n", "page_hide"),
 ("mute not applied to the capture", "livekit_pyweb/participant.py", "        track._port.set_enabled(not muted)\n", "", "mute_unmute_and_disable"),
 ("lost page host ignored", "livekit_pyweb/_engine.py", "        self._host_lost = self.platform.on_lost(self._platform_lost)\n", "", "lost_page_host"),
 ("unpublished sender left sending", "livekit_pyweb/_engine.py", "        await self.publisher.remove_sender(sender)\n", "", "unpublish_removes"),
 ("remote track handle never freed", "livekit_pyweb/room.py", "        track._port.release()\n", "", "remote_track_renders"),
 ("server force_relay ignored", "livekit_pyweb/_engine.py", "if self.options.ice_transport_policy == \"relay\" or relay:", "if self.options.ice_transport_policy == \"relay\":", "forced_relay"),
 ("our ICE servers ignored", "livekit_pyweb/_engine.py", "servers = self.options.ice_servers if self.options.ice_servers is not None else (", "servers = None if False else (", "ice_servers or relay_policy"),
 ("track events without a published track looked up", "livekit_pyweb/room.py", "        if not track_sid:\n            # The receive", "        if False:\n            # The receive", "no_published_track"),
 ("server mute ignored", "livekit_pyweb/room.py", "            self._spawn(local.set_track_muted(pub, bool(msg.muted)))\n", "            pass\n", "server_mutes"),
 ("cancellation turned into ConnectionError", "livekit_pyweb/room.py", "        except BaseException:\n            # Includes CancelledError", "        except asyncio.CancelledError:\n            await self._teardown('x', emit=False)\n            raise ConnectionError('c', ConnectionErrorReason.Cancelled) from None\n        except BaseException:\n            # Includes CancelledError", "cancel or asyncio_timeout"),
 ("mute not sent", "livekit_pyweb/participant.py", "        self._room._engine_required().send_mute(publication.sid, muted)\n", "", "local_mute"),
 ("server unpublish ignored", "livekit_pyweb/room.py", "            self._spawn(local.unpublish_track(msg.track_sid))\n", "            pass\n", "server_unpublishing"),
 ("room metadata event dropped", "livekit_pyweb/room.py", "            self._emit_or_defer(RoomMetadataChanged(old, self.metadata))\n", "            pass\n", "metadata"),
 ("signature kept by redaction", "livekit_pyweb/_core/validate.py", 'pieces = sorted({secret, *secret.split(".")}, key=len, reverse=True)', 'pieces = [secret]', "token"),
 ("auto_subscribe not sent", "livekit_pyweb/_engine.py", "auto_subscribe=self.options.auto_subscribe, adaptive_stream", "auto_subscribe=True, adaptive_stream", "auto_subscribe"),
 ("simulcast encodings dropped", "livekit_pyweb/participant.py", "            encodings = [l.encoding() for l in layers]\n", "            encodings = None\n", "simulcast"),
 ("handler exception swallowed silently", "livekit_pyweb/events.py", '                logger.exception("handler for %r raised", name)\n', "                pass\n", "raising_handler"),
 ("participant name change not reported", "livekit_pyweb/room.py", "            self._emit_or_defer(ParticipantNameChanged(participant, old.name, info.name))\n", "            pass\n", "participant_changes"),
 ("a signal kind silently dropped", "livekit_pyweb/room.py", '            logger.warning("signal message %r is not known to this version of livekit_pyweb", kind)\n', "            pass\n", "not_silent"),
 ("remote track muted not following", "livekit_pyweb/room.py", "                    changed.track._muted = changed.muted\n", "                    pass\n", "muted_follows"),
 ("UA: Firefox iOS as Gecko", "livekit_pyweb/_core/client_info.py", 'return self.browser in ("Firefox", "Firefox Mobile")', 'return self.browser.lower().startswith("firefox")', "user_agent"),
]
def run(case: tuple[str, str, str, str, str] | None, tests: str) -> tuple[bool, str]:
    """Copy the package and the unit tests, apply ``case``'s break (None: none), run the named tests.
    Returns (a test failed or errored in its own setup/teardown, pytest's last line); a collection error is a setup
    problem, never a catch."""
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="breakcheck-"))
    try:
        shutil.copytree(ROOT / "livekit_pyweb", tmp / "livekit_pyweb")
        shutil.copytree(ROOT / "tests", tmp / "tests", ignore=shutil.ignore_patterns("__pycache__", "e2e", "browser"))
        shutil.copytree(ROOT / "build", tmp / "build", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(ROOT / "pyproject.toml", tmp / "pyproject.toml")
        if case is not None:
            name, path, old, new, _ = case
            f = tmp / path
            text = f.read_text()
            assert text.count(old) == 1, (name, text.count(old))
            f.write_text(text.replace(old, new))
        r = subprocess.run([PY, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "tests/unit", "-k", tests],
                           cwd=tmp, capture_output=True, text=True, timeout=300)
        last = [l for l in r.stdout.splitlines() if l.strip()][-1]
        if r.returncode not in (0, 1):  # 2: collection failed, 4/5: usage or nothing selected
            raise SystemExit(f"setup problem ({tests}): {last}\n{r.stdout[-3000:]}")
        return r.returncode == 1, last
    finally:
        shutil.rmtree(tmp)


only = sys.argv[1:]
cases = [c for c in CASES if not only or any(o in c[0] for o in only)]
failed, last = run(None, " or ".join(f"({c[4]})" for c in cases))
if failed:
    raise SystemExit(f"the unbroken tests fail already: {last}")
print(f"unbroken: {last}")
results = []
for case in cases:
    caught, last = run(case, case[4])
    results.append((case[0], caught, last))
    print(("CAUGHT " if caught else "MISSED ") + case[0] + " :: " + last, flush=True)
print(f"{sum(c for _, c, _ in results)}/{len(results)} breaks caught")
