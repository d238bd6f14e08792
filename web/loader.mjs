// livekit_pyweb loader: boots Pyodide from this same folder (the project's offline dist) with livekit_pyweb ready.
//
//   import { bootLivekitPyweb } from "./loader.mjs";
//   const { pyodide, timings, snapshot } = await bootLivekitPyweb();
//   await pyodide.runPythonAsync("from livekit_pyweb import Room; ...");
//
// Everything is fetched relative to this file: nothing from a CDN.
//
// Fast path: the build (build/make_snapshot.mjs) ships a Pyodide memory snapshot taken on Node with livekit_pyweb
// and the protocol modules a room needs already imported (snapshot_imports.py). The loader reads its manifest
// (lkpw-snapshot.json), fetches and gunzips the snapshot (or has the browser decode it: build/dist_http.py) while the
// wasm downloads and compiles, restores it, then writes the files of site-packages (the unpacked wheels, shipped
// after the memory in the same file) back: the snapshot holds memory, not files, and a module imported later is read
// from them. No wheel is fetched. The wasm comes from its content-named copy the manifest names
// (lkpw-wasm-<hash>/pyodide.asm.wasm), which servers send as immutable: Chromium then gives V8 back the code it
// compiled on the last visit (its wasm code cache), where a revalidated file (a 304) would be compiled again,
// function by function, as the restored interpreter runs.
// Fallback: when the snapshot (or that wasm) is missing, corrupt (gzip CRC or length, bad header) or from another
// Pyodide build (its version or build id), Pyodide boots normally: the wheels (through the pruned pyodide-lock.json)
// download while Pyodide boots, not after, and the same modules are imported. The outcome is in `snapshot`:
// {used: true} or {used: false, reason: "missing: ..." | "corrupt: ..." | "mismatch: ..." | "disabled"}, and a
// fallback is logged once (console.info when there is no snapshot, console.warn when there is one that cannot be
// used); the fast path logs nothing.
//
// `loadPyodide` is exported too, with Pyodide's signature, for loaders that take a Pyodide module URL (PyScript's
// `interpreter`): it boots through the snapshot, then loads whatever `packages` the snapshot does not hold.
import { loadPyodide as stockLoadPyodide, version } from "./pyodide.mjs";

export { version };

const BASE = new URL("./", import.meta.url).href;

class Fallback extends Error {}

function fallback(kind, detail) {
  return new Fallback(`${kind}: ${detail}`);
}

async function fetchOk(url, what, init) {
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    throw fallback("missing", `${what}: ${err}`);
  }
  if (!response.ok) throw fallback("missing", `${what}: HTTP ${response.status}`);
  return response;
}

// Copy a stream's bytes into `out` as they arrive; returns how many were written (a Fallback when there are more).
async function readInto(stream, file, out) {
  let offset = 0;
  try {
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (offset + value.length > out.length) {
        await reader.cancel();
        throw fallback("corrupt", `${file} holds more than the ${out.length} bytes its manifest says`);
      }
      out.set(value, offset);
      offset += value.length;
    }
  } catch (err) {
    throw err instanceof Fallback ? err : fallback("corrupt", `${file}: ${err}`);
  }
  return offset;
}

// Whether a response's body was decoded by the browser already (the server sent it with a Content-Encoding).
function decodedByBrowser(response) {
  const encoding = (response.headers.get("Content-Encoding") || "").trim().toLowerCase();
  return encoding !== "" && encoding !== "identity";
}

// Gunzip the snapshot file as it arrives into `out` (the memory snapshot, then the files of site-packages); returns
// the number of bytes written. Servers may send it with a Content-Encoding (build/dist_http.py: its zstd copy when
// the browser takes zstd): the browser's network process then decodes it, off the page's thread, ~4x faster than
// gzip (measured on the 48 MB: ~75 ms against ~315 ms of CPU). The gzip file sent as it is is gunzipped here, on the
// page's thread, CRC checked (measured: the same gunzip in a worker took 2-3 times the CPU time, ~610 ms instead of
// ~240 ms, and ended later).
async function gunzip(url, file, out) {
  const response = await fetchOk(url, file);
  let stream;
  try {
    stream = decodedByBrowser(response) ? response.body : response.body.pipeThrough(new DecompressionStream("gzip"));
  } catch (err) {
    throw fallback("corrupt", `${file}: ${err}`);
  }
  return readInto(stream, file, out);
}

// After a visit, the gunzipped snapshot is kept in the origin's Cache Storage, so that later visits read the 48 MB
// back instead of inflating 10.8 MB on the page's thread (~240 ms of its CPU, which everything else waited behind:
// bench/trace_boot.py). A worker makes that copy from the HTTP cache's file, after the boot, off the page's thread.
// The key is the content-named file's URL: another build's snapshot has another name (older copies are deleted).
const RAW_CACHE = "livekit-pyweb-snapshot";
const STORE_DELAY_MS = 4000;
const rawKey = (manifest) => `${BASE}${manifest.file}?gunzipped`;

function headerOk(manifest, out) {
  const header = new Uint32Array(out.buffer, 0, 2);
  return header[0] === manifest.magic && header[1] === manifest.heapOffset;
}

// Whether `out` was filled from Cache Storage (a copy of the right size and header).
async function readRaw(manifest, out) {
  try {
    if (typeof caches === "undefined") return false;
    const cache = await caches.open(RAW_CACHE);
    const response = await cache.match(rawKey(manifest));
    if (!response) return false;
    // Streamed into `out` (the buffer Pyodide was already handed), not read whole and copied: no second 48 MB.
    let whole = false;
    try {
      whole = await readInto(response.body, rawKey(manifest), out) === out.length && headerOk(manifest, out);
    } catch {
      // longer than the manifest says, or unreadable: deleted below like a short one
    }
    if (whole) return true;
    await cache.delete(rawKey(manifest));
  } catch {
    // no Cache Storage here (an opaque origin, storage blocked): the HTTP file it is
  }
  return false;
}

const STORE_WORKER = `
onmessage = async ({ data: { url, key, cacheName, size } }) => {
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error("HTTP " + response.status);
    const encoding = (response.headers.get("Content-Encoding") || "").trim().toLowerCase();
    const decoded = encoding !== "" && encoding !== "identity";  // by the browser (loader.mjs: decodedByBrowser)
    const raw = await new Response(decoded ? response.body : response.body.pipeThrough(new DecompressionStream("gzip")))
      .arrayBuffer();
    if (raw.byteLength !== size) throw new Error(raw.byteLength + " bytes, not " + size);
    const cache = await caches.open(cacheName);
    for (const old of await cache.keys()) if (old.url !== key) await cache.delete(old);
    await cache.put(key, new Response(raw, { headers: { "Content-Type": "application/octet-stream" } }));
    postMessage({ stored: true });
  } catch (err) {
    postMessage({ stored: false, error: String(err) });
  }
};
`;

// Keep the gunzipped snapshot in Cache Storage for the next visit (a worker does it; nothing is logged: a page that
// cannot keep it just inflates the file again next time). Resolves with {stored, error}.
function storeRaw(manifest) {
  if (typeof caches === "undefined" || typeof Worker === "undefined") {
    return Promise.resolve({ stored: false, error: "no Cache Storage or Worker" });
  }
  return new Promise((resolve) => {
    const script = URL.createObjectURL(new Blob([STORE_WORKER], { type: "text/javascript" }));
    let worker;
    const end = (result) => {
      worker?.terminate();
      URL.revokeObjectURL(script);
      resolve(result);
    };
    try {
      worker = new Worker(script);
    } catch (err) {
      end({ stored: false, error: String(err) });
      return;
    }
    worker.onmessage = ({ data }) => end(data);
    worker.onerror = (event) => {
      event.preventDefault?.();
      end({ stored: false, error: "the worker failed" });
    };
    worker.postMessage({ url: BASE + manifest.file, key: rawKey(manifest), cacheName: RAW_CACHE,
                         size: manifest.bytes + manifest.filesBytes });
  });
}

// A page may preload the snapshot file (build_dist.py puts a script in index.html that adds a <link rel="preload">
// of it when Cache Storage has no copy, so that a cold visit starts fetching it as the page is parsed: the fetch below
// then takes that response). A visit that reads the snapshot from Cache Storage all the same (the copy came in
// between, or the page preloads it unconditionally) takes the preloaded response and drops its body, so that the
// browser has no unused preload to warn about.
function releasePreload(manifest) {
  if (typeof document === "undefined") return;
  const url = BASE + manifest.file;
  if (!Array.from(document.querySelectorAll('link[rel="preload"]'), (link) => link.href).includes(url)) return;
  fetch(url).then((response) => response.body?.cancel(), () => {});
}

// Fill `out` with the gunzipped snapshot; returns where it came from: "cache storage" or "http".
async function fetchSnapshot(manifest, out) {
  if (await readRaw(manifest, out)) {
    releasePreload(manifest);
    return "cache storage";
  }
  const offset = await gunzip(BASE + manifest.file, manifest.file, out);
  if (offset !== out.length) throw fallback("corrupt", `${manifest.file}: ${offset} bytes, not ${out.length}`);
  if (!headerOk(manifest, out)) throw fallback("corrupt", `${manifest.file}: not a Pyodide snapshot (header)`);
  return "http";
}

// Boot from the snapshot; throws a Fallback (or Pyodide's own error) when it cannot be used. `asmModule`: the import
// of pyodide.asm.mjs, started with the manifest's fetch.
async function bootFromSnapshot(manifestPromise, asmModule, options, timings) {
  const manifest = await manifestPromise;
  timings.manifestAtMs = performance.now();
  if (manifest.pyodideVersion !== version) {
    throw fallback("mismatch", `snapshot made with Pyodide ${manifest.pyodideVersion}, this is ${version}`);
  }
  const out = new Uint8Array(manifest.bytes + manifest.filesBytes);
  const filled = fetchSnapshot(manifest, out).then((from) => {
    timings.snapshotFetchedAtMs = performance.now();
    timings.snapshotFromCacheStorage = from === "cache storage";  // a boolean: timings hold numbers only
  });
  filled.catch(() => {});  // awaited below; no "unhandled rejection" meanwhile
  // The wasm from its content-named copy (build_dist.py: lkpw-wasm-<sha256 prefix>/, served immutable): Chromium
  // then hands V8 back the code it compiled (and tiered up) on the last visit, from its code cache, instead of
  // compiling each function again at its first call. Pyodide fetches `${indexURL}pyodide.asm.wasm` as it starts.
  const wasmBase = manifest.wasmDir ? BASE + manifest.wasmDir : BASE;
  // A failed wasm fetch leaves Pyodide waiting forever (it only logs "wasm instantiation failed!"): check the copy
  // is there (in parallel), and fall back when it is not.
  const wasmThere = manifest.wasmDir
    ? fetch(wasmBase + "pyodide.asm.wasm", { method: "HEAD" }).then((r) => {
      if (r.status === 404 || r.status === 410) throw fallback("missing", `${manifest.wasmDir}: HTTP ${r.status}`);
    }, (err) => { throw fallback("missing", `${manifest.wasmDir}: ${err}`); })
    : null;
  wasmThere?.catch(() => {});
  const heapBytes = manifest.bytes - manifest.heapOffset;
  // Pyodide awaits `_loadSnapshot` before it instantiates the wasm: it gets the buffer at once, and the download is
  // awaited here instead, so that it overlaps the wasm's compile and the runtime's start. Pyodide's module script
  // was imported meanwhile (not before loadPyodide: the wasm's fetch starts as loadPyodide begins).
  const createPyodideModule = async (settings) => {
    const [{ default: createModule }] = await Promise.all([asmModule, wasmThere]);
    timings.asmImportedAtMs = performance.now();
    const [module] = await Promise.all([createModule(settings), filled]);
    timings.wasmReadyAtMs = performance.now();
    // The wasm starts with 30 MiB; restoring a larger heap needs the memory grown first (else "offset is out of
    // bounds" in Pyodide's restoreSnapshot).
    if (module.HEAP8.length < heapBytes) module.growMemory(heapBytes);
    return module;
  };
  // Pyodide checks the snapshot's magic number and build id in its restore ("Snapshot build id mismatch").
  const pyodide = await stockLoadPyodide({
    ...options, indexURL: wasmBase, stdLibURL: BASE + "python_stdlib.zip",
    _loadSnapshot: out.subarray(0, manifest.bytes), createPyodideModule,
  });
  await filled;
  // Pyodide keeps its options for the page's life: drop the 48 MB buffer it no longer needs, and name the dist
  // folder as its indexURL again for whoever reads it later.
  delete pyodide._api.config._loadSnapshot;
  pyodide._api.config.indexURL = BASE;
  return { pyodide, manifest, files: out.subarray(manifest.bytes) };
}

// The snapshot holds memory only: write site-packages' files back (modules imported later are read from them).
function finishSnapshotBoot(pyodide, manifest, files) {
  const { FS } = pyodide;
  const made = new Set();
  let offset = 0;
  for (const [path, size] of manifest.files) {
    const full = `${manifest.sitePackages}/${path}`;
    const dir = full.slice(0, full.lastIndexOf("/"));
    if (!made.has(dir)) {
      FS.mkdirTree(dir);
      made.add(dir);
    }
    FS.writeFile(full, files.subarray(offset, offset + size));  // a copy: the 48 MB download is freed after boot
    offset += size;
  }
  // Every page restores the same memory: give `random` fresh entropy (str hashes keep the build's seed).
  const globals = pyodide.toPy({});
  pyodide.runPython(
    "import importlib, sys\nimportlib.invalidate_caches()\n" +
    "if 'random' in sys.modules: sys.modules['random'].seed()",
    { globals },
  );
  globals.destroy();
  // Later loadPackage calls for these (PyScript's `packages`, user code) find them installed.
  for (const wheel of manifest.wheels) pyodide.loadedPackages[wheel.name] = "lkpw-snapshot";
}

function report(reason) {
  if (reason === "disabled") return;
  const message = `livekit_pyweb: booting without the Pyodide snapshot (${reason})`;
  if (reason.startsWith("missing:")) console.info(message);
  else console.warn(message);
}

function normalize(name) {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

// Pyodide with `packages`, through the snapshot when there is one; `info` receives {used, reason}.
async function boot({ packages, snapshot, preimport, options, info, timings }) {
  const t0 = performance.now();
  const base = { ...options, indexURL: BASE, lockFileURL: BASE + "pyodide-lock.json" };
  if (snapshot) {
    const manifestPromise = fetchOk(BASE + "lkpw-snapshot.json", "lkpw-snapshot.json", { cache: "no-cache" })
      .then((r) => r.json());
    const asmModule = import("./pyodide.asm.mjs");
    asmModule.catch(() => {});  // awaited in bootFromSnapshot
    try {
      const { pyodide, manifest, files } = await bootFromSnapshot(manifestPromise, asmModule, base, timings);
      timings.pyodideBootMs = performance.now() - t0;
      const t1 = performance.now();
      finishSnapshotBoot(pyodide, manifest, files);
      timings.filesWrittenMs = performance.now() - t1;
      if (!timings.snapshotFromCacheStorage) {
        // Later, off the boot's path (a page joins a room right after its boot): keep a gunzipped copy. The promise
        // (of {stored, error}) is for tests.
        setTimeout(() => { globalThis.lkpwSnapshotStored = storeRaw(manifest); }, STORE_DELAY_MS);
      }
      const held = new Set(manifest.wheels.map((w) => normalize(w.name)));
      const missing = packages.filter((p) => !held.has(normalize(p)));
      if (missing.length) await pyodide.loadPackage(missing, { messageCallback: () => {} });
      timings.wheelLoadImportMs = performance.now() - t1;
      Object.assign(info, { used: true, reason: null });
      return pyodide;
    } catch (err) {
      const text = String(err).split("\n")[0];
      info.reason = err instanceof Fallback ? err.message
        : /build id mismatch|version does not match/i.test(text) ? `mismatch: ${text}` : `corrupt: ${text}`;
    }
  } else {
    info.reason = "disabled";
  }
  info.used = false;
  report(info.reason);
  const t2 = performance.now();
  const imports = preimport ? fetch(BASE + "snapshot_imports.py").then((r) => (r.ok ? r.text() : "")) : null;
  imports?.catch(() => {});
  // `packages` makes Pyodide fetch the wheels while the wasm downloads and compiles, not after.
  const pyodide = await stockLoadPyodide({ ...base, packages });
  timings.pyodideBootMs = performance.now() - t2;
  const t3 = performance.now();
  const code = imports ? await imports : "";
  // Importing the protocol here keeps its ~0.6 s of descriptor building off the connect() path.
  if (code) {
    const globals = pyodide.toPy({});
    await pyodide.runPythonAsync(code, { globals });
    globals.destroy();
  }
  timings.wheelLoadImportMs = performance.now() - t3;
  return pyodide;
}

export async function bootLivekitPyweb({ packages = ["livekit-pyweb"], preimport = true, snapshot = true } = {}) {
  const timings = {};
  const info = { used: false, reason: null };
  const pyodide = await boot({ packages, snapshot, preimport, options: {}, info, timings });
  timings.sdkReadyAtMs = performance.now();  // since navigation start (in a worker: since the worker started)
  timings.navigationToBootMs = timings.sdkReadyAtMs;
  timings.snapshotUsed = info.used;
  return { pyodide, timings, snapshot: info };
}

// Pyodide's loadPyodide(options), through the snapshot; the outcome is in globalThis.lkpwBoot.
export async function loadPyodide(options = {}) {
  const { packages = [], indexURL, lockFileURL, lockFileContents, ...rest } = options;
  const info = { used: false, reason: null };
  const timings = {};
  const pyodide = await boot({ packages, snapshot: true, preimport: false, options: rest, info, timings });
  globalThis.lkpwBoot = { snapshot: info, timings };
  return pyodide;
}
