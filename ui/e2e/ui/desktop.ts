/**
 * The desktop browser: pairing from the QR code's link, typing, reconnecting after `paddock up`
 * restarts, the first paint, the other screens, a session's process tree and its raw transcript.
 */
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { device, PADDOCK, until } from "../harness";
import { host, shellId, desktop, setDesktop, shot, outputLines } from "./shared";

describe("desktop", () => {
  it("pairs from the QR code's link, lists the sessions, and types into one", async () => {
    const desktop = setDesktop(await device("desktop"));
    const { page } = desktop;
    const offer = await host.pair("admin");
    await page.goto(offer.pair_url);
    await page.getByRole("button", { name: "Pair this device" }).click();

    const card = page.locator(`[data-session="${shellId}"]`);
    await until("the session's card on the dashboard", () => card.isVisible());
    await until("the second session too", () => page.getByText("tests-shell").isVisible());
    expect(page.url()).not.toContain("pair="); // the secret is not left in the address
    await shot(desktop, "desktop-dashboard");

    await card.click();
    await until("a writable terminal", () =>
      page.locator('[data-testid="terminal"][data-writable="true"]').isVisible(),
    );
    await page.locator('[data-testid="terminal"]').click();
    await page.keyboard.type('echo "desk-$((6*7))-ok"');
    await page.keyboard.press("Enter");
    await until(
      "the command's output in the terminal",
      async () => (await outputLines(desktop!, /^desk-42-ok$/)).length === 1,
    );
    expect(await host.paddock("logs", shellId)).toContain("desk-42-ok");
    await shot(desktop, "desktop-session");
  });

  it("reconnects after `paddock up` restarts without losing or doubling output", async () => {
    const d = desktop!;
    const { page } = d;
    await page.keyboard.type("for i in $(seq 1 40); do echo tick-$i; sleep 0.1; done");
    await page.keyboard.press("Enter");
    await until("the first ticks", async () => (await outputLines(d, /^tick-3$/)).length === 1);
    await host.down();
    await until("the offline banner", () =>
      page
        .getByText(/Offline, reconnecting/)
        .first()
        .isVisible(),
    );
    await shot(d, "desktop-offline");
    await host.up();
    await until(
      "the banner to go once the host is back",
      async () =>
        !(await page
          .getByText(/Offline, reconnecting/)
          .first()
          .isVisible()),
      30_000,
    );
    await until(
      "the last tick",
      async () => (await outputLines(d, /^tick-40$/)).length === 1,
      30_000,
    );
    const ticks = await outputLines(d, /^tick-\d+$/);
    expect(ticks).toEqual(Array.from({ length: 40 }, (_, i) => `tick-${i + 1}`));
  });

  it("paints within a second from loopback, cold cache (best of three loads)", async () => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const page = await desktop!.context.newPage();
      await page.route("**/*", (r) => r.continue()); // routing turns the HTTP cache off
      await page.goto(host.url + "/");
      times.push(
        await until("the first contentful paint", () =>
          page.evaluate(
            () => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? 0,
          ),
        ),
      );
      await page.close();
    }
    console.log(
      `first contentful paint from loopback, cold cache: ${times.map((t) => t.toFixed(0)).join(", ")} ms`,
    );
    expect(Math.min(...times)).toBeLessThan(1000);
  });

  it("shows the other screens", async () => {
    const { page } = desktop!;
    for (const [hash, heading, name] of [
      ["#/system", "System", "desktop-system"],
      ["#/processes", "Processes", "desktop-processes"],
      ["#/hosts", "Hosts", "desktop-hosts"],
      ["#/devices", "Devices", "desktop-devices"],
      ["#/logs", "Logs", "desktop-logs"],
    ] as const) {
      await page.goto(new URL(hash, host.url + "/").toString());
      await until(`the ${heading} page`, () =>
        page.getByRole("heading", { name: heading, exact: true }).isVisible(),
      );
      if (name === "desktop-system")
        await until("the host's version", () => page.getByText(/^Paddock \d/).isVisible());
      if (name === "desktop-devices")
        await until("this device in the list", () => page.getByText("(this device)").isVisible());
      if (name === "desktop-processes")
        await until("the session's row", () =>
          page.getByRole("link", { name: "build-shell" }).isVisible(),
        );
      await shot(desktop!, name);
    }
  });
});

describe("processes and the raw transcript", () => {
  it("Processes shows a session's tree: `sleep 600` indented under its shell, filterable, at 360 px too", async () => {
    const { page } = desktop!;
    await host.paddock("run", "--name", "sleeper", "--", "sh", "-c", "sleep 600 & wait");
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.goto(new URL("#/processes", host.url + "/").toString());
    const group = page.getByRole("region", { name: "Processes of sleeper" });
    const row = (command: string) =>
      group
        .locator("tr")
        .filter({ has: page.locator(".text").getByText(command, { exact: true }) });
    const shell = row("sh -c 'sleep 600 & wait'");
    const sleep = row("sleep 600");
    await until("the shell and its sleep in the sleeper's tree", async () => {
      return (await shell.count()) === 1 && (await sleep.count()) === 1;
    });
    await until("the session's link and state in the group's header", () =>
      group.getByRole("link", { name: "sleeper" }).isVisible(),
    );
    // sleep's parent is the shell, one level deeper, and drawn further right.
    expect(await sleep.getAttribute("data-ppid")).toBe(await shell.getAttribute("data-pid"));
    expect(Number(await sleep.getAttribute("data-depth"))).toBe(
      Number(await shell.getAttribute("data-depth")) + 1,
    );
    const x = async (row: typeof shell) => (await row.locator(".text").boundingBox())!.x;
    expect(await x(sleep)).toBeGreaterThan(await x(shell));
    expect(await sleep.locator("[data-label=Status]").textContent()).toMatch(/sleep/);
    await shot(desktop!, "desktop-processes");

    // The filter keeps the match and its shell, and hides the other sessions.
    await page.getByLabel("Filter processes").fill("sleep 600");
    await until(
      "the other sessions filtered out",
      async () =>
        (await page.getByRole("region", { name: "Processes of build-shell" }).count()) === 0,
    );
    expect(await sleep.isVisible()).toBe(true);
    expect(await shell.isVisible()).toBe(true);

    // A 360 px phone: each process fits the width, still indented under its shell.
    await page.setViewportSize({ width: 360, height: 740 });
    await until("the compact layout", async () => {
      const b = await sleep.locator(".text").boundingBox();
      return b !== null && b.x + b.width <= 360;
    });
    expect(await x(sleep)).toBeGreaterThan(await x(shell));
    const pid = await sleep.locator("[data-label=PID]").boundingBox();
    expect(pid && pid.x + pid.width).toBeLessThanOrEqual(360);
    await shot(desktop!, "phone-360-processes");
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.getByLabel("Filter processes").fill("");
  });

  it("the Raw tab says when there is no transcript, then follows the one the session learns", async () => {
    const { page } = desktop!;
    const out = await host.paddock("run", "--name", "raw-reader", "--", "cat");
    const id = out.trim().split(/\s+/).pop()!;
    await page.goto(host.url + "/#/");
    await until("the session's card", () => page.locator(`[data-session="${id}"]`).isVisible());
    await page.locator(`[data-session="${id}"]`).click();
    await page.getByRole("tab", { name: "Summary", exact: true }).click();
    await page.getByRole("tab", { name: "Raw", exact: true }).click();
    const raw = page.getByLabel("Raw lines");
    await until("the host's message that there is no transcript", () =>
      raw.getByText(/no transcript/i).isVisible(),
    );

    // Claude Code names its transcript in every hook; this is how a session learns it.
    // Where Claude Code keeps transcripts: the host follows transcripts only there.
    const claudeDir = join(host.dir, "claude");
    mkdirSync(join(claudeDir, "projects", "-e2e"), { recursive: true });
    const path = join(claudeDir, "projects", "-e2e", "raw-reader.jsonl");
    const user = {
      type: "user",
      message: { role: "user", content: "fix the e2e bug" },
      uuid: "u1",
      timestamp: "2026-11-22T08:00:00Z",
    };
    const assistant = {
      type: "assistant",
      message: { role: "assistant", content: [{ type: "text", text: "Looking." }] },
      uuid: "a1",
    };
    writeFileSync(path, `${JSON.stringify(user)}\nnot json at all\n${JSON.stringify(assistant)}\n`);
    execFileSync(PADDOCK, ["hook", "--agent", "claude"], {
      env: { ...host.env, PADDOCK_SESSION_ID: id, CLAUDE_CONFIG_DIR: claudeDir },
      input: JSON.stringify({
        hook_event_name: "UserPromptSubmit",
        session_id: "e2e-raw",
        transcript_path: path,
        cwd: "/",
        prompt: "fix the e2e bug",
      }),
    });
    const items = raw.locator("li");
    await until("the transcript's lines", async () => (await items.count()) === 3, 10_000);
    expect(await items.nth(0).getAttribute("data-kind")).toBe("user");
    expect(await items.nth(0).textContent()).toContain("fix the e2e bug");
    expect(await items.nth(1).getAttribute("data-kind")).toBe("text");
    expect(await items.nth(2).textContent()).toContain("Looking.");

    // A line the agent appends shows last within a poll or two; half a line waits for its end.
    const fixed = {
      type: "assistant",
      message: { role: "assistant", content: [{ type: "text", text: "Fixed-in-e2e." }] },
      uuid: "a2",
    };
    appendFileSync(path, `${JSON.stringify(fixed)}\n{"type":"us`);
    await until("the appended line, last", async () => (await items.count()) === 4, 10_000);
    expect(await items.nth(3).textContent()).toContain("Fixed-in-e2e.");
    appendFileSync(path, `er","message":{"role":"user","content":"thanks-e2e"}}\n`);
    await until("the line finished later", async () => (await items.count()) === 5, 10_000);
    expect(await items.nth(4).textContent()).toContain("thanks-e2e");

    // Unfolded, a line is its pretty JSON.
    await items.nth(3).locator("summary").click();
    await until("the pretty JSON", () => items.nth(3).getByText('"uuid": "a2"').isVisible());
    await shot(desktop!, "desktop-raw-transcript");
  });
});
