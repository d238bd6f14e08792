// Open one page in headless Firefox ESR (Debian's, driven over WebDriver BiDi by puppeteer-core: no geckodriver,
// no browser download) and print `window[STATE]` as one JSON line every 500 ms until stdin closes.
//
//   node tests/e2e/firefox/drive.mjs URL STATE_VAR
//
// Each stdin line `{"id": N, "js": BODY}` runs BODY as the body of an async function in the page; its outcome is
// printed as one line `{"reply": N, "value": RESULT}` or `{"reply": N, "error": MESSAGE}` (RESULT: what BODY
// returned, JSON-serialisable). FirefoxPage.evaluate/run_py in tests/e2e/conftest.py use it.
import readline from "node:readline";
//
// Prefs: fake media with permission granted, autoplay allowed, ICE on loopback inside our network namespace,
// and no background traffic (MOZ_DISABLE_NONLOCAL_CONNECTIONS=1 is set by the caller's environment too).
import puppeteer from "puppeteer-core";

const [url, stateVar] = process.argv.slice(2);
const prefs = {
  "media.navigator.streams.fake": true,
  "media.navigator.permission.disabled": true,
  "permissions.default.camera": 1,
  "permissions.default.microphone": 1,
  "media.autoplay.default": 0,
  "media.peerconnection.ice.loopback": true,
  "media.peerconnection.ice.obfuscate_host_addresses": false,
  "services.settings.server": "data:,#remote-settings-dummy/v1",
  "network.captive-portal-service.enabled": false,
  "network.dns.disablePrefetch": true,
  "datareporting.healthreport.uploadEnabled": false,
  "datareporting.policy.dataSubmissionEnabled": false,
  "toolkit.telemetry.enabled": false,
  "browser.safebrowsing.malware.enabled": false,
  "browser.safebrowsing.phishing.enabled": false,
  "app.update.enabled": false,
};

const browser = await puppeteer.launch({
  browser: "firefox",
  executablePath: process.env.FIREFOX || "/usr/bin/firefox-esr",
  headless: true,
  protocol: "webDriverBiDi",
  extraPrefsFirefox: prefs,
  env: { ...process.env, MOZ_DISABLE_NONLOCAL_CONNECTIONS: "1" },
});
let done = false;
const finish = async (code) => {
  if (done) return;
  done = true;
  clearInterval(timer);
  await browser.close().catch(() => {});
  process.exit(code);
};
process.stdin.on("end", () => finish(0));
process.on("SIGTERM", () => finish(0));

const page = await browser.newPage();
page.on("console", (msg) => process.stderr.write(`[console] ${msg.text()}\n`));
await page.goto(url);
const commands = readline.createInterface({ input: process.stdin });
commands.on("close", () => finish(0));
commands.on("line", async (line) => {
  let id = null;
  try {
    const command = JSON.parse(line);
    id = command.id;
    const outcome = await page.evaluate(async (body) => {
      const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
      try {
        return JSON.stringify({ value: (await new AsyncFunction(body)()) ?? null });
      } catch (err) {  // a PythonError's message is its traceback
        return JSON.stringify({ error: String(err?.message ?? err) });
      }
    }, command.js);
    process.stdout.write(`${JSON.stringify({ reply: id, ...JSON.parse(outcome) })}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ reply: id, error: String(err?.message ?? err) })}\n`);
  }
});
const timer = setInterval(async () => {
  try {
    const state = await page.evaluate((name) => JSON.stringify(window[name] ?? null), stateVar);
    process.stdout.write(`${state}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ driverError: String(err) })}\n`);
  }
}, 500);
