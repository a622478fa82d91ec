// Fails the build when the JavaScript a first visit loads (index.html's module script and the
// chunks it preloads, xterm.js and uPlot being lazy chunks) exceeds its budget, gzipped.
import { readFileSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const BUDGET = 150 * 1024;
const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const initial = [
  ...html.matchAll(/<script[^>]+src="\/([^"]+\.js)"/g),
  ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="\/([^"]+\.js)"/g),
].map((m) => m[1]);
const css = [...html.matchAll(/<link[^>]+rel="stylesheet"[^>]+href="\/([^"]+\.css)"/g)].map(
  (m) => m[1],
);

const gz = (f) => gzipSync(readFileSync(join(dist, f)), { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

let total = 0;
for (const f of initial) {
  const n = gz(f);
  total += n;
  console.log(`initial  ${kb(n).padStart(9)}  ${f}`);
}
for (const f of css) console.log(`css      ${kb(gz(f)).padStart(9)}  ${f}`);
for (const f of readdirSync(join(dist, "assets"))) {
  const p = `assets/${f}`;
  if (f.endsWith(".js") && !initial.includes(p))
    console.log(`lazy     ${kb(gz(p)).padStart(9)}  ${p}`);
}
console.log(`initial JavaScript: ${kb(total)} gzipped (budget ${kb(BUDGET)})`);
if (initial.length === 0) {
  console.error("error: found no script in dist/index.html; run `vite build` first");
  process.exit(1);
}
if (total > BUDGET) {
  console.error(
    `error: the initial JavaScript is ${kb(total)} gzipped, over the ${kb(BUDGET)} budget; ` +
      "load the new dependency lazily (dynamic import) or drop it",
  );
  process.exit(1);
}
