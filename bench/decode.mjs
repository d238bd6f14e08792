// Per-message decode bench, in Pyodide on Node (the same V8 and wasm engine as Chromium):
//   node bench/decode.mjs DIST_DIR FRAMES_DIR [N]
// Boots the dist's Pyodide, loads our wheel with the protocol (the dist's pruned lock), and times, N times per
// frame (default 1000), what the client does with one server frame: livekit_pyweb._core.codec.decode_response
// (bytes -> what the room model reads). Prints one JSON line: per frame its size, the median / p95 in ms and
// ms per KB, and the cost of the first decode (cold: lazily built decoders included).
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";

const [dist, framesDir, n = "1000"] = process.argv.slice(2);
const { loadPyodide } = await import(path.resolve(dist, "pyodide.mjs"));
const pyodide = await loadPyodide({ indexURL: path.resolve(dist) + "/", lockFileURL: path.resolve(dist, "pyodide-lock.json") });
await pyodide.loadPackage(["livekit-pyweb"], { messageCallback: () => {} });
const t0 = performance.now();
await pyodide.runPythonAsync("from livekit_pyweb._core import codec, proto\nproto.rtc(); proto.models()");
const importMs = performance.now() - t0;
const frames = {};
for (const f of readdirSync(framesDir).filter((f) => f.endsWith(".bin")).sort()) {
  frames[f.slice(0, -4)] = new Uint8Array(readFileSync(path.join(framesDir, f)));
}
pyodide.globals.set("frames_js", pyodide.toPy(frames));
const out = pyodide.runPython(`
import json, statistics, time
from livekit_pyweb._core import codec
result = {}
for name, data in frames_js.items():
    data = bytes(data)
    t = time.perf_counter(); codec.decode_response(data); first = (time.perf_counter() - t) * 1000
    times = []
    for _ in range(${Number(n)}):
        t = time.perf_counter()
        codec.decode_response(data)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    med = statistics.median(times)
    result[name] = {"bytes": len(data), "median_ms": round(med, 4), "p95_ms": round(times[int(len(times) * .95)], 4),
                    "ms_per_kb": round(med / (len(data) / 1024), 4), "first_ms": round(first, 3)}
json.dumps(result)
`);
console.log(JSON.stringify({ import_ms: Math.round(importMs), frames: JSON.parse(out) }));
