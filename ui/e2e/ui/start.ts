/**
 * Starting sessions from the UI (and the host's refusal), and the Logs page's stored history.
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { device, terminalLines, until } from "../harness";
import { host, shellId, shot } from "./shared";

describe("starting sessions from the UI", () => {
  it("an operator starts a command in a folder, sees its output, and reads the host's refusal of a missing program", async () => {
    const operator = await device("desktop");
    const folder = mkdtempSync(join(tmpdir(), "paddock-e2e-start-"));
    try {
      const { page } = operator;
      const offer = await host.pair("operator");
      await page.goto(offer.pair_url);
      await page.getByRole("button", { name: "Pair this device" }).click();
      await until("the dashboard", () => page.locator(`[data-session="${shellId}"]`).isVisible());

      await page.getByRole("button", { name: "New session" }).click();
      const dialog = page.getByRole("dialog", { name: "New session" });
      await until("the New session form", () => dialog.isVisible());
      // The presets fill the command line.
      await dialog.getByRole("button", { name: "codex", exact: true }).click();
      expect(await dialog.getByLabel("Command").inputValue()).toBe("codex");

      // A program that does not exist: the host's message in the form, which keeps its contents.
      await dialog.getByLabel("Command").fill("no-such-program-e2e --flag");
      await dialog.getByLabel(/Working directory/).fill(folder);
      await dialog.getByRole("button", { name: "Start session" }).click();
      const alert = dialog.getByRole("alert");
      await until("the host's refusal", () => alert.isVisible());
      expect(await alert.textContent()).toMatch(/The host did not start it: .*no-such-program-e2e/);
      expect(await dialog.getByLabel("Command").inputValue()).toBe("no-such-program-e2e --flag");
      expect(await dialog.getByLabel(/Working directory/).inputValue()).toBe(folder);
      expect(page.url()).not.toContain("#/s/");
      // However long the host's message, the form's buttons stay inside the dialog.
      const dlgBox = (await dialog.boundingBox())!;
      const startBox = (await dialog.getByRole("button", { name: "Start session" }).boundingBox())!;
      expect(startBox.x + startBox.width).toBeLessThanOrEqual(dlgBox.x + dlgBox.width);
      await shot(operator, "desktop-new-session-error");

      // The real thing: a shell line with quotes, in the temporary folder, under a name.
      await dialog.getByLabel("Command").fill("sh -c 'echo hello-from-ui; exec cat'");
      await dialog.getByLabel(/Name/).fill("ui-started");
      await dialog.getByRole("button", { name: "Start session" }).click();
      await until("the new session's view", () => page.url().includes("#/s/"));
      await until("its output in the terminal", async () =>
        (await terminalLines(page)).some((l) => l.trim() === "hello-from-ui"),
      );
      await until("its name on the page", () => page.getByText("ui-started").first().isVisible());
      const listed = JSON.parse(await host.paddock("ls", "--json")) as {
        id: string;
        name: string;
        cwd: string;
      }[];
      const started = listed.find((s) => s.name === "ui-started");
      expect(started?.cwd).toBe(folder);
      expect(page.url()).toContain(encodeURIComponent(started!.id));
      await shot(operator, "desktop-new-session-started");

      // The form fits a 360 px wide phone.
      await page.setViewportSize({ width: 360, height: 740 });
      await page.goto(new URL("#/", host.url + "/").toString());
      await page.getByRole("button", { name: "New session" }).click();
      await until("the form at 360 px", () => dialog.isVisible());
      const box = await dialog.getByRole("button", { name: "Start session" }).boundingBox();
      expect(box && box.x + box.width).toBeLessThanOrEqual(360);
      await shot(operator, "phone-360-new-session");
      await dialog.getByRole("button", { name: "Cancel" }).click();

      // The Logs page's History tab lists what the host stored, newest first, a page at a time.
      await page.setViewportSize({ width: 1400, height: 900 });
      await page.goto(new URL("#/logs", host.url + "/").toString());
      await page.getByRole("tab", { name: "History" }).click();
      const rows = page.getByLabel("Stored activity log").locator("[data-log-id]");
      await until("stored entries", async () => (await rows.count()) > 0);
      const ids = await rows.evaluateAll((els) => els.map((e) => Number(e.dataset.logId)));
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      await until(
        "the end of the log or a Load older button",
        async () =>
          (await page.getByRole("button", { name: "Load older" }).isVisible()) ||
          (await page.getByText(/That is everything the host stored/).isVisible()),
      );
      await shot(operator, "desktop-logs-history");
      await page.getByLabel("Level").selectOption("error");
      await until(
        "the level filter applied by the host",
        async () => (await page.getByText(/Loading the stored log/).count()) === 0,
      );
      const levels = await rows.evaluateAll((els) =>
        els.map((e) => e.querySelector(".lvl")?.textContent?.trim().toLowerCase()),
      );
      expect(levels.every((l) => l === "error")).toBe(true);
    } finally {
      await operator.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
