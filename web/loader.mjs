// livekit_pyweb loader: boots Pyodide from this same folder (the project's offline dist) and loads our wheel.
//
//   import { bootLivekitPyweb } from "./loader.mjs";
//   const { pyodide, timings } = await bootLivekitPyweb();
//   await pyodide.runPythonAsync("from livekit_pyweb import Room; ...");
//
// Everything is fetched relative to this file: pyodide.mjs, pyodide-lock.json (the pruned lock listing only the
// wheels that are really here) and the wheels. Nothing is loaded from a CDN.
import { loadPyodide } from "./pyodide.mjs";

export async function bootLivekitPyweb({ packages = ["livekit-pyweb"], preimport = true } = {}) {
  const base = new URL("./", import.meta.url).href;
  const timings = {};
  const t0 = performance.now();
  const pyodide = await loadPyodide({ indexURL: base, lockFileURL: base + "pyodide-lock.json" });
  timings.pyodideBootMs = performance.now() - t0;
  timings.navigationToBootMs = performance.now();
  const t1 = performance.now();
  await pyodide.loadPackage(packages, { messageCallback: () => {} });
  if (preimport) {
    // Importing the protocol here keeps its ~0.6 s of descriptor building off the connect() path.
    await pyodide.runPythonAsync(
      "import livekit_pyweb, livekit_pyweb.room\nfrom livekit_pyweb._core import proto\nproto.rtc(); proto.models()"
    );
  }
  timings.wheelLoadImportMs = performance.now() - t1;
  return { pyodide, timings };
}
