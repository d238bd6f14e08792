// Decoding the server's signalling frames on the JS side (npm @livekit/protocol, livekit-client's own decoder) against
// our Python decoder (livekit_pyweb._core.codec → _core/wire.py), in Pyodide on Node (the same V8 as Chromium):
//
//   node bench/decode_js.mjs DIST_DIR FRAMES_DIR [N]      (frames: bench/frames.py, e.g. through bench/startup.py)
//
// Per frame, median of N (default 1000), timed from Python as the client would pay it:
//   python     codec.decode_response(bytes): what the room model reads today (read-only views)
//   js         SignalResponse.fromBinary(bytes) alone, in JS (no crossing): the floor of the JS route
//   js+to_py   Python hands the bytes to JS (to_js → Uint8Array), JS decodes and returns toJson()'s plain object,
//              Python converts it (.to_py()) into dicts: still short of what the model reads (camelCase JSON names,
//              enums as strings, 64-bit ints as strings, no attribute access)
//   js+json    the same, but JS returns JSON.stringify(toJson()) and Python json.loads it
// It also compares the two packages' schemas for every message a JoinResponse or ParticipantUpdate reaches (field
// numbers and names): the npm package must describe the same protocol release as PyPI livekit-protocol.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const [dist, framesDir, n = "1000"] = process.argv.slice(2);
const { SignalResponse } = await import("@livekit/protocol");
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const npmVersion = JSON.parse(readFileSync(path.join(root, "node_modules/@livekit/protocol/package.json"), "utf8"))
  .version;

const frames = {};
for (const f of readdirSync(framesDir).filter((f) => f.endsWith(".bin")).sort()) {
  frames[f.slice(0, -4)] = new Uint8Array(readFileSync(path.join(framesDir, f)));
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const jsOnly = {};
for (const [name, bytes] of Object.entries(frames)) {
  SignalResponse.fromBinary(bytes);
  const times = [];
  for (let i = 0; i < Number(n); i++) {
    const t = performance.now();
    SignalResponse.fromBinary(bytes);
    times.push(performance.now() - t);
  }
  jsOnly[name] = median(times);
}

// The JS schema of every message reachable from SignalResponse's join and update: typeName → "no:name" list.
const jsSchema = {};
const walk = (type) => {
  if (jsSchema[type.typeName]) return;
  jsSchema[type.typeName] = type.fields.list().map((f) => `${f.no}:${f.name}`).sort();
  for (const f of type.fields.list()) {
    if (f.kind === "message") walk(f.T);
    if (f.kind === "map" && f.V.kind === "message") walk(f.V.T);
  }
};
for (const f of SignalResponse.fields.list()) if (f.name === "join" || f.name === "update") walk(f.T);

const { loadPyodide } = await import(path.resolve(dist, "pyodide.mjs"));
const pyodide = await loadPyodide({ indexURL: path.resolve(dist) + "/",
                                    lockFileURL: path.resolve(dist, "pyodide-lock.json") });
await pyodide.loadPackage(["livekit-pyweb"], { messageCallback: () => {} });
await pyodide.runPythonAsync("from livekit_pyweb._core import codec, proto\nproto.rtc(); proto.models()");
globalThis.lkpwDecodeToJson = (u8) => SignalResponse.fromBinary(u8).toJson();
globalThis.lkpwDecodeToJsonText = (u8) => JSON.stringify(SignalResponse.fromBinary(u8).toJson());
pyodide.globals.set("frames_js", pyodide.toPy(frames));
pyodide.globals.set("js_schema", pyodide.toPy(jsSchema));
const out = pyodide.runPython(`
import json, statistics, time
import js
from pyodide.ffi import to_js
from livekit_pyweb._core import codec, proto

def timed(fn, data, n):
    fn(data)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn(data)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)

def js_to_py(data):
    return js.lkpwDecodeToJson(to_js(data)).to_py()

def js_json(data):
    return json.loads(js.lkpwDecodeToJsonText(to_js(data)))

result = {}
for name, data in frames_js.items():
    data = bytes(data)
    kb = len(data) / 1024
    row = {"bytes": len(data)}
    for label, fn in (("python", codec.decode_response), ("js+to_py", js_to_py), ("js+json", js_json)):
        row[label] = round(timed(fn, data, ${Number(n)}) / kb, 4)
    result[name] = row

# Python's schema of the same messages, from livekit-protocol's descriptors
py_schema = {}
def walk(d):
    if d.full_name in py_schema:
        return
    py_schema[d.full_name] = sorted(f"{f.number}:{f.name}" for f in d.fields)
    for f in d.fields:
        if f.message_type is not None:
            walk(f.message_type)
resp = proto.rtc().SignalResponse.DESCRIPTOR
walk(resp.fields_by_name["join"].message_type)
walk(resp.fields_by_name["update"].message_type)
js_schema_py = {k: list(v) for k, v in js_schema.to_py().items()} if hasattr(js_schema, "to_py") else dict(js_schema)
diff = {}
for name in sorted(set(py_schema) | set(js_schema_py)):
    if name.endswith("Entry"):  # protobuf's synthetic map entry messages (the JS side has maps)
        continue
    a, b = set(py_schema.get(name, [])), set(js_schema_py.get(name, []))
    if a != b:
        diff[name] = {"only_pypi": sorted(a - b), "only_npm": sorted(b - a)}
import importlib.metadata as md
json.dumps({"frames": result, "schema_messages": len(py_schema), "schema_diff": diff,
            "pypi_version": md.version("livekit-protocol")})
`);
const parsed = JSON.parse(out);
for (const [name, row] of Object.entries(parsed.frames)) row.js = Math.round(jsOnly[name] / (row.bytes / 1024) * 1e4) / 1e4;
console.log(JSON.stringify({ npm_version: npmVersion, ...parsed }));
