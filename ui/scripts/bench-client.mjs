// The browser side of `paddock-bench --only client`: in Debian's Chromium (playwright-core,
// as the end-to-end suite drives it), against a real `paddock up`, measures REST round trips
// (`fetch` of GET /api/v1/sessions) and a terminal stream's throughput over the WebSocket
// (lossless attach, binary frames counted until BENCH_BYTES arrived). Prints one JSON object.
// The browser accepts the host's self-signed certificate here (ignoreHTTPSErrors); the app
// and the CLI pin it instead.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: this script is run by paddock-bench`);
  return v;
};
const url = env("BENCH_URL");
const token = env("BENCH_TOKEN");
const session = env("BENCH_SESSION");
const bytes = Number(env("BENCH_BYTES"));
const requests = Number(env("BENCH_REQUESTS"));
const timeoutMs = Number(env("BENCH_TIMEOUT_MS"));

const profile = mkdtempSync(join(tmpdir(), "paddock-bench-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
  ],
  ignoreHTTPSErrors: true,
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  // Same origin as the API, as the UI is.
  await page.goto(url + "/health");
  const result = await page.evaluate(
    async ({ token, session, bytes, requests, timeoutMs }) => {
      const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
      const get = async () => {
        const r = await fetch("/api/v1/sessions", { headers, cache: "no-store" });
        if (!r.ok) throw new Error(`GET /api/v1/sessions: ${r.status}`);
        await r.json();
      };
      await get();
      const samples = [];
      for (let i = 0; i < requests; i++) {
        const t0 = performance.now();
        await get();
        samples.push(performance.now() - t0);
      }
      samples.sort((a, b) => a - b);
      const pct = (p) =>
        samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))];

      const streamMs = await new Promise((resolve, reject) => {
        const ws = new WebSocket(`wss://${location.host}/api/v1/ws`);
        ws.binaryType = "arraybuffer";
        let start = null;
        let got = 0;
        let t0 = 0;
        const timer = setTimeout(
          () => reject(new Error(`only ${got} of ${bytes} bytes in time`)),
          timeoutMs,
        );
        ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token }));
        ws.onerror = () => reject(new Error("the WebSocket failed"));
        ws.onmessage = (m) => {
          if (typeof m.data === "string") {
            const msg = JSON.parse(m.data);
            if (msg.type === "ready") {
              ws.send(JSON.stringify({ type: "attach", session, lossless: true }));
            } else if (msg.type === "attached") {
              start = msg.offset;
              t0 = performance.now();
              ws.send(JSON.stringify({ type: "input", session, data: "\r" }));
            } else if (msg.type === "lagged") {
              reject(new Error("the browser fell behind and was resynced"));
            }
            return;
          }
          const b = new DataView(m.data);
          if (b.getUint8(0) !== 1 || start === null) return; // output frames only
          const idLen = b.getUint8(1);
          const offset = Number(b.getBigUint64(2 + idLen, true));
          got = offset + (m.data.byteLength - 2 - idLen - 8) - start;
          if (got >= bytes) {
            clearTimeout(timer);
            resolve(performance.now() - t0);
            ws.close();
          }
        };
      });
      return { rest_p50_ms: pct(50), rest_p99_ms: pct(99), stream_ms: streamMs };
    },
    { token, session, bytes, requests, timeoutMs },
  );
  process.stdout.write(JSON.stringify(result) + "\n");
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
