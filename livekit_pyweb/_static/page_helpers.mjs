// livekit_pyweb page helpers: the JavaScript that runs on the page's main thread, written once for both ways Python
// reaches the page.
//
// * Python on the main thread (the direct Platform, livekit_pyweb/_browser) compiles this file once, at its first
//   use, into one function returning these helpers (livekit_pyweb/_page_js.py: each `export function` becomes a plain
//   declaration; never at import, see tests/unit/test_snapshot_safe.py).
// * The worker bridge's page host (host.mjs) imports them; lkpw-host.mjs and the notebook widget get this text in
//   place of that import line (livekit_pyweb/_page_js.py host_module()), so they stay one self-contained module.
//
// Only `export function name(...) {` declarations at the start of a line, no imports, no other top-level state.

// Nothing: the one callback a refused play() promise is caught with.
export function ignore() {}

// A media-device call made in JS, its promise always resolving: {ok: true, value} or {ok: false, name, message}.
// Measured (Pyodide in Chromium 156): a getUserMedia promise rejected with an OverconstrainedError never settles when
// awaited in Python, while in JS it rejects within 50 ms; and a promise handed to Python and back is rejected with a
// PythonError, the DOMException's name lost.
export function settleCall(target, method, args) {
  const failed = (e) => ({
    ok: false,
    name: (e && typeof e.name === "string" && e.name) || "Error",
    message: (e && (e.message || (e.constraint ? "constraint " + e.constraint + " cannot be satisfied" : ""))) || String(e),
  });
  try {
    return Promise.resolve(target[method](...args)).then((value) => ({ ok: true, value }), failed);
  } catch (e) {
    return Promise.resolve(failed(e));
  }
}

// The capabilities livekit-client's support helpers test, for this page.
export function capabilities() {
  const pc = typeof RTCPeerConnection !== "undefined";
  return {
    RTCPeerConnection: pc,
    addTransceiver: pc && "addTransceiver" in RTCPeerConnection.prototype,
    addTrack: pc && "addTrack" in RTCPeerConnection.prototype,
    ResizeObserver: typeof ResizeObserver !== "undefined",
    IntersectionObserver: typeof IntersectionObserver !== "undefined",
  };
}

// Play `track` in `el` (as livekit-client's attach): autoplay, inline, muted unless there is sound to hear (a muted
// video may autoplay without a user gesture). `report(ok, errorName)`, when given, hears how play() went for an audio
// track, and for a video track in an element holding no audio (a refused autoplay is page state the room tracks:
// can_playback_audio / can_playback_video); a report that throws (a destroyed proxy) is ignored. A refused element
// holding audio and video is muted and played again, so that its video at least plays. The play() promise stays in
// JS: one handed to Python and back loses the DOMException's name.
export function attachTrack(el, track, kind, report) {
  let stream = el.srcObject;
  if (!stream || typeof stream.getTracks !== "function") {
    stream = new MediaStream();
    el.srcObject = stream;
  }
  for (const old of stream.getTracks()) {
    if (old.kind === track.kind && old.id !== track.id) stream.removeTrack(old);
  }
  if (!stream.getTracks().some((t) => t.id === track.id)) stream.addTrack(track);
  el.autoplay = true;
  const hasAudio = stream.getTracks().some((t) => t.kind === "audio");
  el.muted = !hasAudio;
  el.setAttribute("playsinline", "true");
  if (kind === "video") el.playsInline = true;
  const promise = el.play();
  if (!promise) return;
  if (!report || !(kind === "audio" || !hasAudio)) {
    promise.catch(ignore); // autoplay policy: nobody asked
    return;
  }
  promise.then(
    () => {
      try {
        report(true, "");
      } catch {}
    },
    (e) => {
      try {
        report(false, (e && e.name) || "Error");
      } catch {}
      const s = el.srcObject;
      if (e && e.name === "NotAllowedError" && !el.muted && s && s.getVideoTracks && s.getVideoTracks().length) {
        el.muted = true;
        Promise.resolve(el.play()).catch(ignore);
      }
    },
  );
}

export function detachTrack(el, track) {
  const stream = el.srcObject;
  if (!stream || typeof stream.getTracks !== "function") return;
  for (const t of stream.getTracks()) if (t.id === track.id) stream.removeTrack(t);
  if (stream.getTracks().length === 0) el.srcObject = null;
}

// play() `el` now (unmuting it first for start_audio); resolves to "" (playing) or the error's name
// ("NotAllowedError": autoplay refused), never rejects.
export function playSettled(el, unmute) {
  try {
    if (unmute) el.muted = false;
    return Promise.resolve(el.play()).then(() => "", (e) => (e && e.name) || "Error");
  } catch (e) {
    return Promise.resolve((e && e.name) || "Error");
  }
}

// livekit-client's detectSilence: an analyser (fftSize 2048) on the track, read after `ms`; silent when every
// time-domain byte is 128 or 0. Resolves true/false, never rejects.
export async function detectSilence(track, ms) {
  const Ctx = globalThis.AudioContext || globalThis.webkitAudioContext;
  if (!Ctx) return false;
  let ctx;
  try {
    ctx = new Ctx({ latencyHint: "interactive" });
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 2048;
    const data = new Uint8Array(analyser.frequencyBinCount);
    ctx.createMediaStreamSource(new MediaStream([track])).connect(analyser);
    await new Promise((resolve) => setTimeout(resolve, ms));
    analyser.getByteTimeDomainData(data);
    return !data.some((s) => s !== 128 && s !== 0);
  } catch {
    return false;
  } finally {
    if (ctx) ctx.close().catch(ignore);
  }
}

// Adaptive stream: watch an element (size, in the viewport, page visibility), report (w, h, visible, hidden, dpr) at
// once and after each change (a report that throws is ignored); returns the function that stops it.
export function watchElement(el, cb) {
  const doc = el.ownerDocument || document;
  const win = doc.defaultView || globalThis;
  const inView = () => {
    if (el.hidden || !el.isConnected || win.getComputedStyle(el).display === "none") return false;
    const r = el.getBoundingClientRect();
    return r.top < win.innerHeight && r.left < win.innerWidth && r.bottom > 0 && r.right > 0;
  };
  const state = { v: inView() };
  const send = () => {
    try {
      cb(el.clientWidth, el.clientHeight, state.v, doc.visibilityState === "hidden", win.devicePixelRatio || 1);
    } catch {}
  };
  const ro = new ResizeObserver(send);
  const io = new IntersectionObserver((entries) => {
    for (const entry of entries) if (entry.target === el) state.v = entry.isIntersecting;
    send();
  }, { root: null, rootMargin: "0px" });
  ro.observe(el);
  io.observe(el);
  doc.addEventListener("visibilitychange", send);
  send();
  return () => {
    ro.disconnect();
    io.disconnect();
    doc.removeEventListener("visibilitychange", send);
  };
}

// Apply recomputed encodings (a restarted capture of another size) to a sender in one getParameters/setParameters
// transaction (the parameters object must go back as it came): only encodings still active, only the members given.
// Resolves false when the number of encodings differs.
export async function setEncodings(sender, encodings) {
  const params = sender.getParameters();
  if (!params.encodings || !Array.isArray(encodings) || params.encodings.length !== encodings.length) return false;
  params.encodings.forEach((e, i) => {
    if (e.active === false) return;
    for (const k of ["scaleResolutionDownBy", "maxBitrate", "maxFramerate", "priority", "networkPriority"]) {
      if (encodings[i][k] !== undefined && encodings[i][k] !== null) e[k] = encodings[i][k];
    }
  });
  await sender.setParameters(params);
  return true;
}

// A recvonly video transceiver negotiates the AV1 dependency descriptor header extension (Chromium offers it on send
// transceivers only: "stopped" here by default). Measured: on /rtc/v1 a subscriber's video arrives on these
// transceivers, and an AV1 L3T3 track forwarded without it was received (120 frames) but never decoded (0 frames, a
// PLI a second); with it, decoded. RTCRtpTransceiver.setHeaderExtensionsToNegotiate, where the browser has it.
export function receiveDependencyDescriptor(t) {
  if (typeof t.getHeaderExtensionsToNegotiate !== "function" || typeof t.setHeaderExtensionsToNegotiate !== "function") return;
  const dd = "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension";
  const exts = t.getHeaderExtensionsToNegotiate();
  if (!exts.some((e) => e.uri === dd && e.direction === "stopped")) return;
  try {
    t.setHeaderExtensionsToNegotiate(exts.map((e) => (e.uri === dd ? { uri: e.uri, direction: "recvonly" } : e)));
  } catch {}
}

// livekit-client's iOS startAudio workaround: a hidden autoplay <audio> playing a silent track (an oscillator through
// a zero gain into a MediaStreamDestination, its getEmptyAudioStreamTrack). state: "create" → the element (on the
// page, playing; null without AudioContext), "unplug" / "plug" → srcObject null / its stream, "remove" → gone, its
// track and context stopped.
export function silentAudio(el, state) {
  if (state === "create") {
    const Context = globalThis.AudioContext || globalThis.webkitAudioContext;
    if (!Context) return null;
    const ctx = new Context();
    const oscillator = ctx.createOscillator();
    const gain = ctx.createGain();
    gain.gain.value = 0;
    const destination = ctx.createMediaStreamDestination();
    oscillator.connect(gain);
    gain.connect(destination);
    oscillator.start();
    const created = document.createElement("audio");
    created.autoplay = true;
    created.hidden = true;
    created.id = "livekit-dummy-audio-el";
    created.srcObject = destination.stream;
    created.lkpwSilent = { stream: destination.stream, ctx };
    document.body.append(created);
    return created;
  }
  const silent = el?.lkpwSilent;
  if (!silent) return null;
  if (state === "unplug") el.srcObject = null;
  else if (state === "plug") el.srcObject = silent.stream;
  else if (state === "remove") {
    el.srcObject = null;
    el.remove();
    for (const track of silent.stream.getTracks()) track.stop();
    silent.ctx.close().catch(ignore);
    delete el.lkpwSilent;
  }
  return null;
}
