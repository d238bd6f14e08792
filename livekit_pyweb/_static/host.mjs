// livekit_pyweb page host: serves the worker bridge (wire protocol v1, see livekit_pyweb/_core/bridge.py).
//
// Python running in a Web Worker (JupyterLite's kernel, PyScript worker mode, a plain worker) has no
// RTCPeerConnection, getUserMedia or DOM. This module runs on the page's main thread, owns those objects for it and
// answers its calls over a same-origin BroadcastChannel. It also holds the worker's signalling WebSocket: when the
// page goes away the worker is killed before it runs anything, so the host sends the worker's goodbye (its
// LeaveRequest, ws.setGoodbye) itself on pagehide. A page that hosts such workers loads it once:
//
//   <script type="module">import { serveDiscovery } from "/lkpw-host.mjs"; serveDiscovery();</script>
//
// and names the plain workers it starts with workerName() (new Worker(url, {type: "module", name: workerName()})),
// so that their Python finds this page's host and not another tab's (a PyScript worker reads the page id from the
// document instead). Or it starts a host on a channel name it got some other way (a notebook widget):
// startHost(name).
// Page JavaScript reaches the media elements Python created: globalThis.livekitPyweb.hosts.get(channel).element(h).
// ES module, no dependencies.

// The page-side helpers, shared with Python on the main thread (one source: page_helpers.mjs). lkpw-host.mjs and the
// notebook widget carry their text in place of this line (livekit_pyweb/_page_js.py host_module()).
import {
  attachTrack, capabilities, detachTrack, detectSilence, playSettled, receiveDependencyDescriptor, setEncodings,
  silentAudio, watchElement,
} from "./page_helpers.mjs";

const VERSION = 1;
const DISCOVERY = "livekit-pyweb-hosts";

const registry = (globalThis.livekitPyweb ??= {});
registry.hosts ??= new Map();

function randomHex(bytes) {
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
}

// A file of an <input type=file> on this page, for send_file in a worker (which cannot hold the page's File objects):
// ops file.info (name/size/type) and file.read (a slice as bytes).
function pageFile(selector, index) {
  const input = typeof document !== "undefined" ? document.querySelector(selector) : null;
  const file = input && input.files ? input.files[index] : undefined;
  if (!file) throw named("NotFoundError", `no file ${index} in an <input type=file> matching ${selector} on this page`);
  return file;
}

function named(name, message) {
  const e = new Error(message);
  e.name = name;
  return e;
}

function errorOf(e) {
  const name = e && typeof e.name === "string" && e.name ? e.name : "Error";
  const message = e && e.message !== undefined ? String(e.message) : String(e);
  const error = { name, message };
  if (e && Number.isInteger(e.code) && name === "WebSocketClosed") {
    error.code = e.code;
    error.reason = String(e.reason ?? "");
  }
  return error;
}

function statsList(report) {
  return Array.from(report.values(), (entry) => Object.fromEntries(Object.entries(entry)));
}

// setCodecPreferences with `mime` first, every other codec kept in the browser's order (h264: the
// profile-level-id=42e01f variants before the other h264 ones); as _core/simulcast.py codec_preference_order.
function preferCodec(transceiver, kind, mime) {
  const caps = typeof RTCRtpReceiver !== "undefined" && RTCRtpReceiver.getCapabilities?.(kind);
  if (!caps || typeof transceiver.setCodecPreferences !== "function") return;
  const wanted = mime.toLowerCase();
  const first = [], partial = [], rest = [];
  for (const c of caps.codecs) {
    const m = c.mimeType.toLowerCase();
    if (m === "audio/opus" || m === wanted) {
      if (m === "video/h264" && !(c.sdpFmtpLine || "").includes("profile-level-id=42e01f")) partial.push(c);
      else first.push(c);
    } else rest.push(c);
  }
  if (![...first, ...partial].some((c) => c.mimeType.toLowerCase() === wanted)) return;
  transceiver.setCodecPreferences([...first, ...partial, ...rest]);
}

function listen(entry, target, type, fn) {
  target.addEventListener(type, fn);
  entry.off.push(() => target.removeEventListener(type, fn));
}

class Host {
  constructor(channelName, { onClose, helloTimeout } = {}) {
    this.name = channelName;
    this.hostId = randomHex(8);
    this._onClose = onClose;
    this.closed = false;
    this.welcomed = false;
    this.bound = false;
    this.interval = 1.0;
    this._handles = new Map(); // h -> {type, obj, owner, off: [], ...}
    this._elements = new Map(); // elH -> {el, owner}
    this._watches = new Map(); // watchH -> {elH, stop}: adaptive stream's element observers
    this._next = -1;
    this._lastHeard = performance.now();
    this._lastSent = performance.now();
    this._timer = null;
    this.channel = new BroadcastChannel(channelName);
    this.channel.onmessage = (event) => this._receive(event.data);
    this._pagehide = () => {
      // The worker will not run again (the navigation kills it first): say its goodbye on its sockets now.
      for (const [h, entry] of [...this._handles]) if (entry.type === "ws") this._release(h);
      this._event(0, "pagehide", null);
    };
    if (typeof window !== "undefined" && window.addEventListener) window.addEventListener("pagehide", this._pagehide);
    // Devices plugged in or out, the default changed: page state, pushed to the worker (h = 0).
    this._devicechange = () => this._event(0, "devicechange", null);
    this._mediaDevices = typeof navigator !== "undefined" ? navigator.mediaDevices : undefined;
    this._mediaDevices?.addEventListener?.("devicechange", this._devicechange);
    // Page visibility (livekit-client's iOS startAudio workaround listens to it): page state, pushed (h = 0).
    this._visibility = () => this._event(0, "visibilitychange", { hidden: document.visibilityState === "hidden" });
    if (typeof document !== "undefined") document.addEventListener?.("visibilitychange", this._visibility);
    this._helloTimer = helloTimeout ? setTimeout(() => this.welcomed || this.close("nobody said hello"), helloTimeout) : null;
    const old = registry.hosts.get(channelName);
    if (old && old !== this) old.close("replaced");
    registry.hosts.set(channelName, this);
  }

  // -- public ------------------------------------------------------------------------------------------------
  element(elH) {
    return this._elements.get(elH)?.el;
  }

  /** Adaptive stream's element observers still running (leak checks). */
  watchCount() {
    return this._watches.size;
  }

  counts() {
    let pcs = 0;
    for (const entry of this._handles.values()) pcs += entry.type === "pc";
    return { handles: this._handles.size, pcs, elements: this._elements.size };
  }

  close(why = "closed") {
    if (this.closed) return;
    if (this.bound && why !== "bye") this._post({ t: "bye" });
    this.closed = true;
    clearInterval(this._timer);
    clearTimeout(this._helloTimer);
    for (const h of [...this._handles.keys()]) this._release(h);
    for (const elH of [...this._elements.keys()]) this._releaseElement(elH);
    try {
      this.channel.close();
    } catch {}
    if (typeof window !== "undefined" && window.removeEventListener) window.removeEventListener("pagehide", this._pagehide);
    this._mediaDevices?.removeEventListener?.("devicechange", this._devicechange);
    if (typeof document !== "undefined") document.removeEventListener?.("visibilitychange", this._visibility);
    if (registry.hosts.get(this.name) === this) registry.hosts.delete(this.name);
    if (this._onClose) {
      try {
        this._onClose(why);
      } catch (e) {
        console.error("livekit_pyweb host: onClose failed", e);
      }
    }
  }

  // -- the channel ---------------------------------------------------------------------------------------------
  _post(message) {
    if (this.closed) return;
    this._lastSent = performance.now();
    this.channel.postMessage(message);
  }

  _event(h, type, data) {
    if (this.bound) this._post({ t: "event", h, type, data: data === undefined ? null : data });
  }

  _heard() {
    this._lastHeard = performance.now();
  }

  _receive(msg) {
    if (this.closed || !msg || typeof msg !== "object") return;
    switch (msg.t) {
      case "hello":
        if (msg.v !== VERSION || this.bound || typeof msg.nonce !== "string") return;
        if (typeof msg.interval === "number" && msg.interval > 0 && Number.isFinite(msg.interval)) {
          this.interval = msg.interval;
        }
        this.welcomed = true;
        this._heard();
        this._post({ t: "welcome", v: VERSION, nonce: msg.nonce, hostId: this.hostId,
                     userAgent: typeof navigator !== "undefined" ? navigator.userAgent : "" });
        return;
      case "bind":
        if (this.bound) return;
        if (msg.hostId !== this.hostId) {
          this.close("another host serves this channel");
          return;
        }
        this.bound = true;
        this._heard();
        this._timer = setInterval(() => this._tick(), (this.interval * 1000) / 4);
        return;
      case "call":
        if (!this.bound) return;
        this._heard();
        this._call(msg);
        return;
      case "hb":
        if (this.bound) this._heard();
        return;
      case "bye":
        if (this.bound) this.close("bye");
        return;
      default: // another host's welcome/reply/event/hb, or garbage: not for us
        return;
    }
  }

  _tick() {
    const now = performance.now();
    if (now - this._lastHeard >= 2 * this.interval * 1000) {
      this.close("the worker stopped answering");
      return;
    }
    if (now - this._lastSent >= this.interval * 1000) this._post({ t: "hb" });
  }

  async _call(msg) {
    const { id, op } = msg;
    const args = Array.isArray(msg.args) ? msg.args : [];
    let reply;
    try {
      const fn = Object.hasOwn(OPS, op) ? OPS[op] : null;
      if (!fn) throw named("NotSupportedError", `unknown op ${op}`);
      const value = await fn.apply(this, args);
      reply = { t: "reply", id, ok: true, value: value === undefined ? null : value };
    } catch (e) {
      reply = { t: "reply", id, ok: false, error: errorOf(e) };
    }
    this._post(reply);
  }

  // -- handles -------------------------------------------------------------------------------------------------
  _get(h, type) {
    const entry = this._handles.get(h);
    if (!entry || (type && entry.type !== type)) throw named("InvalidStateError", `no ${type || "object"} with handle ${h}`);
    return entry;
  }

  _add(h, entry) {
    if (this._handles.has(h)) throw named("InvalidStateError", `handle ${h} is in use`);
    entry.off = [];
    this._handles.set(h, entry);
    if (entry.owner !== undefined) this._handles.get(entry.owner)?.owned?.add(h);
    return entry;
  }

  _newTrack(track, owner, h = this._next--) {
    const entry = this._add(h, { type: "track", obj: track, owner, captured: owner === undefined, elements: new Set() });
    listen(entry, track, "ended", () => this._event(h, "ended", null));
    return h;
  }

  _newChannel(h, dc, owner) {
    // sent: bytes handed to dc.send, reported with bufferedAmount so that the worker knows how much of what it
    // posted is still buffered (the page owns bufferedAmount; see BridgeDataChannel)
    const entry = this._add(h, { type: "dc", obj: dc, owner, sent: 0 });
    dc.binaryType = "arraybuffer";
    listen(entry, dc, "open", () => this._event(h, "open", null));
    listen(entry, dc, "close", () => this._event(h, "close", null));
    listen(entry, dc, "bufferedamountlow", () =>
      this._event(h, "bufferedamountlow", { buffered: dc.bufferedAmount, sent: entry.sent }));
    listen(entry, dc, "message", (event) => {
      const data = typeof event.data === "string" ? new TextEncoder().encode(event.data) : new Uint8Array(event.data);
      this._event(h, "message", data);
    });
    return entry;
  }

  _release(h) {
    const entry = this._handles.get(h);
    if (!entry) return;
    this._handles.delete(h);
    if (entry.owner !== undefined) this._handles.get(entry.owner)?.owned?.delete(h);
    for (const off of entry.off) off();
    if (entry.type === "pc") {
      for (const child of [...entry.owned]) this._release(child);
      entry.obj.close();
    } else if (entry.type === "dc") {
      try {
        entry.obj.close();
      } catch {}
    } else if (entry.type === "ws") {
      const ws = entry.obj;
      // Python closed it (no goodbye then), or Python cannot say it any more (the page goes away, the worker
      // stopped answering): send what it left us, synchronously, before closing.
      if (entry.goodbye && ws.readyState === WebSocket.OPEN) {
        try {
          ws.send(entry.goodbye);
        } catch {}
      }
      try {
        ws.close(entry.closeCode ?? 1000, entry.closeReason ?? "");
      } catch {}
      if (entry.opening) entry.opening(named("InvalidStateError", "the socket was closed while opening"));
    } else if (entry.type === "track") {
      if (entry.captured) entry.obj.stop();
      for (const elH of entry.elements) {
        const element = this._elements.get(elH);
        if (element) detachTrack(element.el, entry.obj);
      }
      // An element this track created and that now plays nothing goes with it; one where another track plays
      // now (a restarted capture attached in its place) belongs to that track from now on.
      for (const [elH, element] of [...this._elements]) {
        if (element.owner !== h) continue;
        if (!playing(element.el)) {
          this._releaseElement(elH);
          continue;
        }
        for (const [other, e] of this._handles) {
          if (e.type === "track" && e.elements.has(elH)) element.owner = other;
        }
      }
    }
  }

  // result: play()'s outcome as playSettled gives it ("" or the error's name), also pushed as a play event
  _reportPlay(elH, result, kind) {
    result.then((error) => this._event(elH, "play", { ok: error === "", error, kind }));
    return result;
  }

  _startAudio(elHs) {
    return this._startMedia(elHs, "audio");
  }

  // play() the elements (null: every element of this host holding that kind), synchronously; audio unmutes them.
  _startMedia(elHs, kind) {
    const results = [];
    for (const [elH, element] of this._elements) {
      if (elHs ? !elHs.includes(elH) : !hasKind(element.el, kind)) continue;
      const result = playSettled(element.el, kind === "audio");
      results.push(this._reportPlay(elH, result, kind === "audio" || hasAudio(element.el) ? "audio" : "video"));
    }
    return results;
  }

  _unwatch(watchH) {
    const watch = this._watches.get(watchH);
    if (!watch) return;
    this._watches.delete(watchH);
    watch.stop();
  }

  _releaseElement(elH) {
    const element = this._elements.get(elH);
    if (!element) return;
    for (const [watchH, watch] of [...this._watches]) if (watch.elH === elH) this._unwatch(watchH);
    this._elements.delete(elH);
    for (const entry of this._handles.values()) entry.elements?.delete(elH);
    silentAudio(element.el, "remove"); // the silent element's track and audio context (nothing for the others)
    try {
      element.el.pause();
    } catch {}
    element.el.srcObject = null;
    element.el.remove();
  }
}

function playing(el) {
  const stream = el.srcObject;
  return !!stream && typeof stream.getTracks === "function" && stream.getTracks().length > 0;
}

function hasAudio(el) {
  return hasKind(el, "audio");
}

function hasKind(el, kind) {
  const stream = el.srcObject;
  return !!stream && typeof stream.getTracks === "function" && stream.getTracks().some((t) => t.kind === kind);
}

// op name -> function(...args), called with this = the Host. The value returned (or awaited) is the reply.
const OPS = {
  "host.ping"() {
    return null;
  },
  "host.counts"() {
    return this.counts();
  },
  // livekit-client's support helpers, answered for this page (the one hosting the media)
  "host.capabilities"() {
    return capabilities();
  },

  "pc.create"(h, config) {
    if (typeof RTCPeerConnection === "undefined") throw named("UnsupportedError", "this page has no RTCPeerConnection");
    const pc = new RTCPeerConnection(config || {});
    const entry = this._add(h, { type: "pc", obj: pc, owned: new Set() });
    listen(entry, pc, "icecandidate", (event) => {
      const c = event.candidate;
      this._event(h, "icecandidate", c && c.candidate ? c.toJSON() : null);
    });
    listen(entry, pc, "connectionstatechange", () => this._event(h, "connectionstatechange", pc.connectionState));
    listen(entry, pc, "track", (event) => {
      const trackH = this._newTrack(event.track, h);
      // removed from the stream it arrived in (a remote description stopped sending it): pushed as "removed"
      const stream = event.streams[0];
      if (stream) {
        listen(this._get(trackH, "track"), stream, "removetrack", (e) => {
          if (e.track === event.track) this._event(trackH, "removed", null);
        });
      }
      const receiverH = this._next--;
      this._add(receiverH, { type: "receiver", obj: event.receiver, owner: h });
      this._event(h, "track", {
        track: { h: trackH, id: event.track.id, kind: event.track.kind },
        receiver: receiverH,
        mid: event.transceiver?.mid ?? "",
        streams: Array.from(event.streams, (s) => s.id),
      });
    });
    listen(entry, pc, "datachannel", (event) => {
      const dcH = this._next--;
      this._newChannel(dcH, event.channel, h);
      this._event(h, "datachannel", { h: dcH, label: event.channel.label });
    });
    return null;
  },
  "pc.setConfiguration"(h, config) {
    this._get(h, "pc").obj.setConfiguration(config);
  },
  async "pc.createOffer"(h, options) {
    return (await this._get(h, "pc").obj.createOffer(options || {})).sdp;
  },
  async "pc.createAnswer"(h) {
    return (await this._get(h, "pc").obj.createAnswer()).sdp;
  },
  async "pc.setLocalDescription"(h, type, sdp) {
    await this._get(h, "pc").obj.setLocalDescription({ type, sdp });
  },
  async "pc.setRemoteDescription"(h, type, sdp) {
    await this._get(h, "pc").obj.setRemoteDescription({ type, sdp });
  },
  async "pc.addIceCandidate"(h, candidate) {
    const pc = this._get(h, "pc").obj;
    await (candidate == null ? pc.addIceCandidate() : pc.addIceCandidate(candidate));
  },
  "pc.addRecvTransceiver"(h, kind) {
    const transceiver = this._get(h, "pc").obj.addTransceiver(kind, { direction: "recvonly" });
    if (kind === "video") receiveDependencyDescriptor(transceiver);
  },
  "pc.addSendTransceiver"(h, senderH, trackH, encodings, codec) {
    const pc = this._get(h, "pc").obj;
    const track = this._get(trackH, "track").obj;
    const init = { direction: "sendonly", streams: [new MediaStream([track])] };
    if (Array.isArray(encodings) && encodings.length) init.sendEncodings = encodings;
    const transceiver = pc.addTransceiver(track, init);
    this._add(senderH, { type: "sender", obj: transceiver, owner: h });
    if (codec) preferCodec(transceiver, track.kind, codec);
  },
  "pc.removeSender"(h, senderH) {
    const pc = this._get(h, "pc").obj;
    const transceiver = this._get(senderH, "sender").obj;
    transceiver.direction = "inactive";
    pc.removeTrack(transceiver.sender);
    this._release(senderH);
  },
  async "sender.setActive"(senderH, active) {
    // dynacast: switch each simulcast encoding on or off (getParameters -> setParameters, one transaction)
    const sender = this._get(senderH, "sender").obj.sender;
    const params = sender.getParameters();
    const encodings = params.encodings || [];
    if (!Array.isArray(active) || encodings.length !== active.length) {
      throw named("InvalidStateError", `the sender has ${encodings.length} encodings, ${active?.length} active flags given`);
    }
    encodings.forEach((encoding, i) => { encoding.active = !!active[i]; });
    await sender.setParameters(params);
  },
  async "sender.getStats"(senderH) {
    return statsList(await this._get(senderH, "sender").obj.sender.getStats());
  },
  async "sender.setDegradationPreference"(senderH, preference) {
    const sender = this._get(senderH, "sender").obj.sender;
    const params = sender.getParameters();
    params.degradationPreference = preference;
    await sender.setParameters(params);
  },
  "sender.getParameters"(senderH) {
    const params = this._get(senderH, "sender").obj.sender.getParameters();
    return JSON.parse(JSON.stringify({
      encodings: params.encodings || [], degradationPreference: params.degradationPreference ?? null,
      codecs: params.codecs || [],
    }));
  },
  async "sender.setEncodings"(senderH, encodings) {
    // a restarted capture of another size: the recomputed encodings, for the layers still active
    return setEncodings(this._get(senderH, "sender").obj.sender, encodings);
  },
  async "sender.replaceTrack"(senderH, trackH) {
    // a restarted capture (another device): the same transceiver sends the new track, no renegotiation
    const sender = this._get(senderH, "sender").obj.sender;
    await sender.replaceTrack(this._get(trackH, "track").obj);
  },
  "pc.createDataChannel"(h, dcH, label, init) {
    const pc = this._get(h, "pc").obj;
    if (this._handles.has(dcH)) throw named("InvalidStateError", `handle ${dcH} is in use`);
    this._newChannel(dcH, pc.createDataChannel(label, init || {}), h);
  },
  async "pc.getStats"(h) {
    return statsList(await this._get(h, "pc").obj.getStats());
  },
  "pc.close"(h) {
    if (this._handles.get(h)?.type === "pc") this._release(h);
  },

  "ws.open"(h, url) {
    if (typeof WebSocket === "undefined") throw named("UnsupportedError", "this page has no WebSocket");
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    const entry = this._add(h, { type: "ws", obj: ws, goodbye: null });
    return new Promise((resolve, reject) => {
      entry.opening = reject;
      listen(entry, ws, "open", () => {
        entry.opening = null;
        resolve(null);
      });
      listen(entry, ws, "message", (event) => {
        const data = typeof event.data === "string" ? new TextEncoder().encode(event.data) : new Uint8Array(event.data);
        this._event(h, "message", data);
      });
      listen(entry, ws, "close", (event) => {
        const opening = entry.opening;
        entry.opening = null;
        entry.goodbye = null; // closed: nothing to send
        this._release(h);
        if (opening) {
          const e = named("WebSocketClosed", `closed before opening (code ${event.code})`);
          e.code = event.code;
          e.reason = event.reason;
          opening(e);
        } else {
          this._event(h, "close", { code: event.code, reason: event.reason });
        }
      });
    });
  },
  "ws.send"(h, data) {
    const entry = this._handles.get(h);
    if (entry?.type === "ws" && entry.obj.readyState === WebSocket.OPEN) entry.obj.send(data);
  },
  "ws.setGoodbye"(h, data) {
    const entry = this._handles.get(h);
    if (entry?.type === "ws") entry.goodbye = data ?? null;
  },
  "ws.close"(h, code, reason) {
    const entry = this._handles.get(h);
    if (entry?.type !== "ws") return;
    entry.goodbye = null; // Python closed it: it said what it had to
    entry.closeCode = Number.isInteger(code) ? code : 1000;
    entry.closeReason = typeof reason === "string" ? reason : "";
    this._release(h);
  },

  "dc.send"(h, data) {
    const entry = this._get(h, "dc");
    entry.sent += data?.byteLength ?? 0; // counted even if refused: the worker counted it as posted
    entry.obj.send(data);
  },
  "dc.setThreshold"(h, bytes) {
    this._get(h, "dc").obj.bufferedAmountLowThreshold = bytes;
  },
  "dc.state"(h) {
    const entry = this._get(h, "dc");
    return { buffered: entry.obj.bufferedAmount, sent: entry.sent, readyState: entry.obj.readyState };
  },
  "dc.close"(h) {
    if (this._handles.get(h)?.type === "dc") this._release(h);
  },

  async "media.getUserMedia"(constraints) {
    const devices = typeof navigator !== "undefined" ? navigator.mediaDevices : undefined;
    if (!devices || !devices.getUserMedia) {
      throw named("UnsupportedError", "navigator.mediaDevices is not available on this page (an insecure origin?)");
    }
    const stream = await devices.getUserMedia(constraints || {});
    if (this.closed) {
      for (const t of stream.getTracks()) t.stop();
      throw named("InvalidStateError", "the host closed during getUserMedia");
    }
    return stream.getTracks().map((track) => ({
      h: this._newTrack(track, undefined), id: track.id, kind: track.kind, settings: track.getSettings(),
    }));
  },

  // livekit-client's detectSilence: never rejects
  async "track.detectSilence"(h, ms) {
    return detectSilence(this._get(h, "track").obj, ms);
  },
  "track.clone"(h, newH) {
    const clone = this._get(h, "track").obj.clone();
    this._newTrack(clone, undefined, newH);
    return { id: clone.id, settings: clone.getSettings() };
  },
  "media.sendCodecs"(kind) {
    const caps = typeof RTCRtpSender !== "undefined" && RTCRtpSender.getCapabilities?.(kind);
    return caps ? caps.codecs.map((c) => c.mimeType) : null;
  },
  async "net.prepare"(url) {
    await fetch(url, { method: "HEAD", mode: "no-cors", cache: "no-store" });
  },
  async "media.getDisplayMedia"(options) {
    const devices = typeof navigator !== "undefined" ? navigator.mediaDevices : undefined;
    if (!devices || !devices.getDisplayMedia) {
      throw named("UnsupportedError", "getDisplayMedia is not available on this page (an insecure origin?)");
    }
    // Needs the page's user activation: a click on the page shortly before this call is read.
    const stream = await devices.getDisplayMedia(options || {});
    if (this.closed) {
      for (const t of stream.getTracks()) t.stop();
      throw named("InvalidStateError", "the host closed during getDisplayMedia");
    }
    return stream.getTracks().map((track) => ({
      h: this._newTrack(track, undefined), id: track.id, kind: track.kind, settings: track.getSettings(),
    }));
  },
  "file.info"(selector, index) {
    const file = pageFile(selector, index);
    return { name: file.name || "", size: file.size, type: file.type || "" };
  },
  async "file.read"(selector, index, offset, length) {
    const file = pageFile(selector, index);
    return new Uint8Array(await file.slice(offset, offset + length).arrayBuffer());
  },
  async "media.enumerateDevices"() {
    const devices = typeof navigator !== "undefined" ? navigator.mediaDevices : undefined;
    if (!devices || !devices.enumerateDevices) {
      throw named("UnsupportedError", "navigator.mediaDevices is not available on this page (an insecure origin?)");
    }
    return (await devices.enumerateDevices()).map((d) => ({
      deviceId: d.deviceId, kind: d.kind, label: d.label, groupId: d.groupId,
    }));
  },

  "track.setEnabled"(h, enabled) {
    this._get(h, "track").obj.enabled = !!enabled;
  },
  "track.stop"(h) {
    this._handles.get(h)?.obj?.stop?.();
  },
  "track.attach"(h, elH, kind) {
    const entry = this._get(h, "track");
    let element = this._elements.get(elH);
    if (!element) {
      if (typeof document === "undefined") throw named("UnsupportedError", "the host has no DOM");
      element = { el: document.createElement(kind === "audio" ? "audio" : "video"), owner: h };
      this._elements.set(elH, element);
    }
    // How play() went, as livekit-client reports it: an audio track's, a video track's in an element without audio.
    const report = (ok, error) => this._event(elH, "play", { ok, error, kind: kind === "audio" ? "audio" : "video" });
    attachTrack(element.el, entry.obj, kind, report);
    entry.elements.add(elH);
  },
  "track.detach"(h, elH) {
    const entry = this._handles.get(h);
    const element = this._elements.get(elH);
    if (!entry || entry.type !== "track" || !element) return; // released already: nothing plays there
    detachTrack(element.el, entry.obj);
    entry.elements.delete(elH);
  },

  // Unmute and play() the elements (null: every audio element of this host), all synchronously as the call is
  // read (the page's user activation, if it still has one, covers them); each result also goes as a play event.
  async "media.startAudio"(elHs) {
    const names = await Promise.all(this._startAudio(Array.isArray(elHs) ? elHs : null));
    return names.filter((n) => n);
  },
  // The same for video (livekit-client's startVideo): play() without unmuting (null: every element holding video).
  async "media.startVideo"(elHs) {
    const names = await Promise.all(this._startMedia(Array.isArray(elHs) ? elHs : null, "video"));
    return names.filter((n) => n);
  },

  "element.mount"(elH, selector) {
    const element = this._elements.get(elH);
    if (!element) throw named("InvalidStateError", `no element with handle ${elH}`);
    const parent = document.querySelector(selector);
    if (!parent) throw named("NotFoundError", `no element on the page matches ${selector}`);
    parent.append(element.el);
  },
  async "element.setSinkId"(elH, deviceId) {
    const element = this._elements.get(elH);
    if (!element) throw named("InvalidStateError", `no element with handle ${elH}`);
    if (typeof element.el.setSinkId !== "function") {
      throw named("UnsupportedError", "this browser cannot choose the audio output of a media element (no setSinkId)");
    }
    await element.el.setSinkId(String(deviceId));
  },
  "element.release"(elH) {
    this._releaseElement(elH);
  },
  // livekit-client's iOS startAudio workaround: the silent <audio> ("create" makes it as elH; "unplug", "plug",
  // "remove"), see silentAudio in page_helpers.mjs
  "media.silentAudio"(elH, state) {
    if (state === "create") {
      if (this._elements.has(elH)) return;
      if (typeof document === "undefined") throw named("UnsupportedError", "the host has no DOM");
      const el = silentAudio(null, "create");
      if (!el) throw named("UnsupportedError", "no AudioContext on the page");
      this._elements.set(elH, { el, owner: 0 });
    } else if (state === "remove") {
      this._releaseElement(elH);
    } else {
      silentAudio(this._elements.get(elH)?.el, state);
    }
  },
  // adaptive stream: watch an element; "view" events go to watchH until element.unobserve or the element goes
  "element.observe"(elH, watchH) {
    const element = this._elements.get(elH);
    if (!element) throw named("InvalidStateError", `no element with handle ${elH}`);
    if (this._watches.has(watchH)) throw named("InvalidStateError", `watch ${watchH} is in use`);
    const stop = watchElement(element.el, (w, h, v, hidden, dpr) => this._event(watchH, "view", { w, h, v, hidden, dpr }));
    this._watches.set(watchH, { elH, stop });
  },
  "element.unobserve"(watchH) {
    this._unwatch(watchH);
  },

  async "receiver.getStats"(h) {
    return statsList(await this._get(h, "receiver").obj.getStats());
  },
  "handle.release"(h) {
    this._release(h);
  },
};

/** For a page button's own click handler (a worker's room.start_audio() reaches the page later, with the click's
 * user activation possibly gone): unmute and play() every audio element of every host of this page, synchronously;
 * the rooms hear the results as play events. Resolves to the error names of the refused ([]: all play). */
registry.startAudio = () => {
  const results = [];
  for (const host of registry.hosts.values()) results.push(...host._startAudio(null));
  return Promise.all(results).then((names) => names.filter((n) => n));
};
export const startAudio = () => registry.startAudio();

/** As startAudio, for video (a page button's handler; livekit-client's startVideo): play() every element holding
 * video of every host of this page, synchronously, not unmuting them. Resolves to the refused error names. */
registry.startVideo = () => {
  const results = [];
  for (const host of registry.hosts.values()) results.push(...host._startMedia(null, "video"));
  return Promise.all(results).then((names) => names.filter((n) => n));
};
export const startVideo = () => registry.startVideo();

/** Serve the bridge on the BroadcastChannel `channelName` (Python opened it first and says hello there). */
export function startHost(channelName, { onClose } = {}) {
  return new Host(channelName, { onClose });
}

/** This page's id (random, made once): a worker's discovery carrying it is for this page's host only. Also set as
 * document.documentElement.dataset.lkpwHost, where a PyScript worker reads it. */
export function pageId() {
  if (!registry.pageId) {
    registry.pageId = randomHex(8);
    if (typeof document !== "undefined" && document.documentElement) {
      document.documentElement.dataset.lkpwHost = registry.pageId;
    }
  }
  return registry.pageId;
}

/** The name to give a Worker this page starts (new Worker(url, {type: "module", name: workerName()})): its Python
 * then announces itself to this page's host only (it reads the name as js.name). */
export function workerName() {
  return "lkpw-host:" + pageId();
}

/** Start a host for every worker of this page that announces its channel on "livekit-pyweb-hosts". The channel is
 * heard by every same-origin tab: a discovery carrying another page's id is not ours. One carrying no id (a worker
 * that could not learn it, an older SDK) is answered as before, by every page serving discovery: the worker binds
 * the first host that welcomes it. */
export function serveDiscovery() {
  const page = pageId();
  const channel = new BroadcastChannel(DISCOVERY);
  // What this page answered (diagnostics, tests): discovers carrying its id, and carrying none.
  const served = { pageId: page, workerName: workerName(), scoped: 0, unscoped: 0, close() { channel.close(); } };
  channel.onmessage = (event) => {
    const msg = event.data;
    if (!msg || msg.t !== "discover" || typeof msg.channel !== "string" || !msg.channel) return;
    const scoped = typeof msg.page === "string" && msg.page !== "";
    if (scoped && msg.page !== page) return; // another page's worker
    if (registry.hosts.has(msg.channel)) return;
    served[scoped ? "scoped" : "unscoped"] += 1;
    // Python says hello every 0.25 s from before it announces: a host nobody greets was not for this page.
    new Host(msg.channel, { helloTimeout: 10000 });
  };
  return served;
}
