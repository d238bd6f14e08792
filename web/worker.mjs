// A plain module Worker running livekit_pyweb in Pyodide (no RTCPeerConnection here: the page serves it over the
// worker bridge). The page sends {id, code}; we answer {id, ok, value | error} with the value of the code's last
// expression as a string. worker_app.py is importable. The page names this worker with lkpw-host.mjs's workerName()
// ("lkpw-host:" + its page id): livekit_pyweb reads it (js.name) and announces itself to that page's host only.
import { bootLivekitPyweb } from "./loader.mjs";

const ready = (async () => {
  const { pyodide, timings, snapshot } = await bootLivekitPyweb();
  const app = await (await fetch("./worker_app.py", { cache: "no-store" })).text();
  pyodide.FS.writeFile("/home/pyodide/worker_app.py", app);
  pyodide.globals.set("boot_timings", pyodide.toPy(timings));
  pyodide.globals.set("boot_snapshot", pyodide.toPy(snapshot));  // {used, reason}: see loader.mjs
  return pyodide;
})();

// Python reports its state to the page with worker_app.report(state): {t: "state", state}.
globalThis.lkpwReport = (json) => postMessage({ t: "state", state: JSON.parse(json) });

// Calls run concurrently (each is a coroutine on Pyodide's event loop).
self.onmessage = async (event) => {
  const { id, code } = event.data;
  try {
    const pyodide = await ready;
    const value = await pyodide.runPythonAsync(code);
    postMessage({ id, ok: true, value: value === undefined ? null : String(value) });
  } catch (err) {
    postMessage({ id, ok: false, error: String(err) });
  }
};
