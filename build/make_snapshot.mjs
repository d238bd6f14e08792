// Build-time Pyodide memory snapshot for dist/ (run by build/build_dist.py with Node, offline).
//
//   node build/make_snapshot.mjs STAGE_DIR
//
// Boots the Pyodide core in STAGE_DIR, unpacks the wheels of livekit-pyweb's dependency closure (those with
// importable code, as the pruned pyodide-lock.json lists them) into site-packages, imports what a room needs
// (web/snapshot_imports.py, run here and nowhere else), and writes
//   STAGE_DIR/lkpw-snapshot-<sha256 prefix>.bin   gzip of the snapshot followed by the files of site-packages (the
//                                                unpacked wheels): the snapshot holds memory, not the file system,
//                                                so the loader writes these files back for modules imported later.
//                                                The loader gunzips it with DecompressionStream; gzip's CRC-32 and
//                                                length catch corruption.
//   STAGE_DIR/lkpw-snapshot.json                  the manifest web/loader.mjs reads first: file name, sizes,
//                                                Pyodide version and build id, the files, and the wheels (name,
//                                                sha256) the snapshot was made from.
//
// Two traps of Pyodide 314's private snapshot API (shared/notes/offline-pyodide.md): a snapshot made after
// loadPackage fails ("Unexpected hiwire entry"): the wheels are installed with unpackArchive, never loadPackage;
// a snapshot larger than the wasm's initial memory needs the memory grown before the restore (web/loader.mjs).
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import crypto from "node:crypto";
import { pathToFileURL } from "node:url";

const stage = path.resolve(process.argv[2] || "dist");
const t0 = performance.now();
const log = (msg) => console.log(`[snapshot ${((performance.now() - t0) / 1000).toFixed(2)}s] ${msg}`);

const { loadPyodide, version } = await import(pathToFileURL(path.join(stage, "pyodide.mjs")).href);
const lock = JSON.parse(fs.readFileSync(path.join(stage, "pyodide-lock.json"), "utf8"));

// The closure of livekit-pyweb in the pruned lock, keeping the wheels that install importable code (types-protobuf
// holds stubs only).
const closure = [];
const visit = (name) => {
  if (closure.includes(name)) return;
  const entry = lock.packages[name];
  if (!entry) throw new Error(`${name} is not in ${stage}/pyodide-lock.json`);
  closure.push(name);
  entry.depends.forEach(visit);
};
visit("livekit-pyweb");
const wheels = closure
  .map((name) => lock.packages[name])
  .filter((entry) => entry.imports.length > 0)
  .map((entry) => ({ name: entry.name, file_name: entry.file_name, sha256: entry.sha256 }));

const pyodide = await loadPyodide({ indexURL: stage + "/", lockFileURL: path.join(stage, "pyodide-lock.json"),
                                    _makeSnapshot: true, stdout: () => {}, stderr: (m) => console.error(m) });
log(`Pyodide ${version} booted`);
const sitePackages = pyodide._api.sitepackages;
for (const wheel of wheels) {
  pyodide.unpackArchive(new Uint8Array(fs.readFileSync(path.join(stage, wheel.file_name))), "wheel",
                        { extractDir: sitePackages });
}
const imports = fs.readFileSync(path.join(stage, "snapshot_imports.py"), "utf8");
const modules = pyodide.runPython(imports + "\nimport sys\nsorted(sys.modules)").toJs();
log(`unpacked ${wheels.map((w) => w.file_name).join(", ")}; ${modules.length} modules imported`);

// site-packages as files: [path relative to site-packages, size], in the order their bytes follow the snapshot.
const files = [];
const chunks = [];
const walk = (dir, rel) => {
  for (const name of pyodide.FS.readdir(dir).filter((n) => n !== "." && n !== "..").sort()) {
    const full = `${dir}/${name}`;
    const relName = rel ? `${rel}/${name}` : name;
    if (pyodide.FS.isDir(pyodide.FS.stat(full).mode)) walk(full, relName);
    else {
      const data = pyodide.FS.readFile(full);
      files.push([relName, data.length]);
      chunks.push(data);
    }
  }
};
walk(sitePackages, "");

const raw = pyodide.makeMemorySnapshot();
const header = new Uint32Array(raw.buffer, raw.byteOffset, 12);
const buildId = Array.from(header.subarray(4, 12), (w) => w.toString(16).padStart(8, "0")).join("");
const gz = zlib.gzipSync(Buffer.concat([raw, ...chunks]), { level: 6 });
const sha256 = crypto.createHash("sha256").update(gz).digest("hex");
const file = `lkpw-snapshot-${sha256.slice(0, 16)}.bin`;
for (const old of fs.readdirSync(stage).filter((f) => /^lkpw-snapshot-[0-9a-f]+\.bin$/.test(f))) {
  fs.unlinkSync(path.join(stage, old));
}
fs.writeFileSync(path.join(stage, file), gz);
const manifest = {
  file, sha256, gzipBytes: gz.length, bytes: raw.length, heapOffset: header[1], magic: header[0],
  pyodideVersion: version, buildId, python: lock.info.python, wheels, modules: modules.length,
  sitePackages, filesBytes: chunks.reduce((n, c) => n + c.length, 0), files,
};
fs.writeFileSync(path.join(stage, "lkpw-snapshot.json"), JSON.stringify(manifest, null, 2) + "\n");
log(`wrote ${file}: snapshot ${(raw.length / 1e6).toFixed(1)} MB + ${files.length} files ` +
    `${(manifest.filesBytes / 1e6).toFixed(1)} MB, ${(gz.length / 1e6).toFixed(1)} MB gzipped`);
