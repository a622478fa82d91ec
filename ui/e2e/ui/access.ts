/**
 * What a paired device may do: a viewer's read-only view, and access tokens renewed from
 * rotating refresh tokens in two tabs at once.
 */
import { describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { device, Host, until } from "../harness";
import { host, shellId, outputLines } from "./shared";

describe("roles", () => {
  it("a viewer reads the terminal but gets no controls, key bar, typing or message box", async () => {
    const viewer = await device("desktop");
    try {
      const { page } = viewer;
      const offer = await host.pair("viewer");
      await page.goto(offer.pair_url);
      await page.getByRole("button", { name: "Pair this device" }).click();
      const card = page.locator(`[data-session="${shellId}"]`);
      await until("the session's card", () => card.isVisible());
      await card.click();
      await until(
        "the terminal's current screen",
        async () => (await outputLines(viewer, /^tick-40$/)).length === 1,
      );
      expect(await page.locator('[data-testid="terminal"]').getAttribute("data-writable")).toBe(
        "false",
      );
      expect(await page.getByRole("toolbar", { name: "Session controls" }).count()).toBe(0);
      expect(await page.getByRole("toolbar", { name: "Terminal keys" }).count()).toBe(0);
      expect(await page.getByLabel("Message to the agent").count()).toBe(0);
      await page.goto(new URL("#/devices", host.url + "/").toString());
      await until("the admin-only notice", () =>
        page.getByText(/Only an admin device/).isVisible(),
      );
    } finally {
      await viewer.close();
    }
  });
});

describe("tokens", () => {
  it("renews expired access tokens from refresh tokens that rotate, in two tabs at once", async () => {
    // A host of its own whose access tokens last 3 s (and which allows the many refreshes
    // that makes; refreshes share pairing's stricter rate limit).
    const short = new Host();
    writeFileSync(
      join(short.dir, "config", "config.toml"),
      '[tmux]\nenabled = false\n\n[server]\naccess_token_ttl = "3s"\npairing_attempts_per_minute = 1000\n',
    );
    const d = await device("desktop");
    try {
      await short.up();
      const id = await short.shell("ttl-shell");
      const { page, context } = d;
      // Every refresh either tab makes: the token it sent, what the host answered.
      const refreshes: { sent: string; status: number; got: string | null }[] = [];
      context.on("response", async (r) => {
        if (!r.url().endsWith("/api/v1/auth/refresh")) return;
        const sent = (r.request().postDataJSON() as { refresh_token: string }).refresh_token;
        const body = (await r.json().catch(() => null)) as { refresh_token?: string } | null;
        refreshes.push({ sent, status: r.status(), got: body?.refresh_token ?? null });
      });
      const offer = await short.pair("operator");
      await page.goto(offer.pair_url);
      await page.getByRole("button", { name: "Pair this device" }).click();
      await until("the session's card", () => page.locator(`[data-session="${id}"]`).isVisible());
      // A second tab of the same browser shares the stored (sealed) tokens.
      const tab2 = await context.newPage();
      for (const p of [page, tab2]) {
        await p.goto(new URL("#/processes", short.url + "/").toString());
      }
      const tree = (p: typeof page) =>
        p.getByRole("region", { name: "Processes of ttl-shell" }).locator("tr").count();
      // Both tabs poll the host every 2 s through several token lifetimes.
      const end = Date.now() + 11_000;
      while (Date.now() < end) {
        await new Promise((r) => setTimeout(r, 1000));
        for (const p of [page, tab2]) {
          await until("the tab still reads the host's processes", async () => (await tree(p)) > 0);
        }
      }
      // Renewed several times, never refused; each refresh token was used, then replaced.
      const ok = refreshes.filter((r) => r.status === 200);
      expect(refreshes.filter((r) => r.status !== 200)).toEqual([]);
      expect(ok.length).toBeGreaterThanOrEqual(2);
      const distinct = new Set(ok.map((r) => r.got));
      expect(distinct.size).toBeGreaterThanOrEqual(2);
      for (const r of ok) expect(r.got).not.toBe(r.sent);
      await page.goto(new URL("#/hosts", short.url + "/").toString());
      await until("the host is online", () => page.getByText("Online").first().isVisible());
      expect(await page.getByText("Revoked").count()).toBe(0);
    } finally {
      await d.close();
      await short.close();
    }
  });
});
