#!/usr/bin/env node
// The browser half of `paddock-bench --only conversation`: pairs a 390×844 touch phone
// (Debian's Chromium through playwright-core) with the bench's `paddock up`, opens the
// session, and measures (1) for each fresh session given (never read before), from the tap on
// it in the list (Chat opens by itself on a phone) to its newest turn painted, (2) from a tap
// on the Chat tab to its turns painted, several times, and (3) from a line appended to the
// transcript file to its text painted on the open view.
// Usage: node bench-conversation.mjs PAIR_URL SESSION_ID TRANSCRIPT_PATH [FRESH_SESSION_ID...].
// Prints JSON: {"cold_paint_ms": [...], "paint_ms": [...], "live_ms": [...]}.
import { chromium } from "playwright-core";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [pairUrl, session, transcript, ...fresh] = process.argv.slice(2);
/** The newest turn of the bench's transcript is on the page. */
const NEWEST = "Step 4999:";
if (!pairUrl || !session || !transcript) {
  console.error("usage: bench-conversation.mjs PAIR_URL SESSION_ID TRANSCRIPT_PATH");
  process.exit(2);
}
const PAINTS = 7;
const LINES = 10;

/** From a tap on the Chat tab (the page's clock) to the newest turn painted (two frames). */
function paintFromChatTap(page) {
  return page.evaluate(
    (newest) =>
      new Promise((resolve, reject) => {
        const tab = [...document.querySelectorAll('[role="tab"]')].find(
          (t) => t.textContent?.trim() === "Chat",
        );
        if (!tab) return reject(new Error("no Chat tab"));
        const t0 = performance.now();
        tab.click();
        const check = () => {
          const turns = [...document.querySelectorAll("[data-turn]")];
          if (turns.some((t) => t.textContent?.includes(newest))) {
            requestAnimationFrame(() =>
              requestAnimationFrame(() => resolve(performance.now() - t0)),
            );
          } else if (performance.now() - t0 > 10_000) {
            reject(new Error("the turns did not show within 10 s"));
          } else {
            requestAnimationFrame(check);
          }
        };
        check();
      }),
    NEWEST,
  );
}

const profile = mkdtempSync(join(tmpdir(), "paddock-bench-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
  ignoreHTTPSErrors: true,
  viewport: { width: 390, height: 844 },
  hasTouch: true,
  isMobile: true,
  deviceScaleFactor: 1,
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(pairUrl);
  await page.getByRole("button", { name: "Pair this device" }).tap();
  const home = new URL(pairUrl).origin + "/";
  // Paired once the sessions are listed.
  await page.locator(`[data-session="${session}"]`).waitFor({ timeout: 15_000 });

  // A fresh session (never read): opened, then from the tap on its Chat tab to its newest
  // turn painted, as below.
  const cold_paint_ms = [];
  for (const id of fresh) {
    await page.goto(home);
    const card = page.locator(`[data-session="${id}"]`);
    await card.waitFor({ timeout: 15_000 });
    await card.tap();
    await page.getByRole("tab", { name: "Terminal" }).waitFor({ timeout: 15_000 });
    cold_paint_ms.push(await paintFromChatTap(page));
  }

  await page.goto(home);
  const card = page.locator(`[data-session="${session}"]`);
  await card.waitFor({ timeout: 15_000 });
  await card.tap();
  const chat = page.getByRole("tab", { name: "Chat" });
  const terminal = page.getByRole("tab", { name: "Terminal" });
  await chat.waitFor({ timeout: 15_000 });

  // From the tap to the turns painted: the page's own clock, two animation frames after the
  // last turn of the first page is in the document.
  const paint_ms = [];
  for (let i = 0; i < PAINTS; i++) {
    await terminal.tap();
    await page.locator("[data-turn]").first().waitFor({ state: "detached" });
    const ms = await paintFromChatTap(page);
    paint_ms.push(ms);
  }

  // A line appended to the transcript, until its text is painted on the open view.
  const live_ms = [];
  for (let i = 0; i < LINES; i++) {
    const marker = `live-line-${i}-${Date.now()}`;
    const seen = page.evaluate(
      (marker) =>
        new Promise((resolve, reject) => {
          const started = Date.now();
          const check = () => {
            const conv = document.querySelector('[aria-label="Conversation"]');
            if (conv?.textContent?.includes(marker)) {
              requestAnimationFrame(() => resolve(Date.now()));
            } else if (Date.now() - started > 10_000) {
              reject(new Error(`${marker} did not show within 10 s`));
            } else {
              requestAnimationFrame(check);
            }
          };
          check();
        }),
      marker,
    );
    await new Promise((r) => setTimeout(r, 150));
    const appended = Date.now();
    appendFileSync(
      transcript,
      JSON.stringify({
        type: "assistant",
        timestamp: new Date().toISOString(),
        message: { id: marker, content: [{ type: "text", text: marker }] },
      }) + "\n",
    );
    live_ms.push((await seen) - appended);
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(JSON.stringify({ cold_paint_ms, paint_ms, live_ms }));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
