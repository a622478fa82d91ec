/**
 * The UI against a real `paddock up` and real shell sessions, in Debian's Chromium, at desktop
 * size and on a 390×844 touch phone. Screenshots go to docs/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ClaudeSandbox,
  device,
  Host,
  PADDOCK,
  SHOTS,
  startClaude,
  terminalLines,
  until,
  type Device,
} from "./harness";

let host: Host;
let shellId = "";
let desktop: Device | null = null;
let phone: Device | null = null;
let claude: ClaudeSandbox | null = null;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  host = new Host();
  await host.up();
  shellId = await host.shell("build-shell");
  await host.shell("tests-shell");
});

afterAll(async () => {
  // Each step runs even when an earlier one fails, so nothing is left running.
  const steps = [
    () => desktop?.close(),
    () => phone?.close(),
    () => host?.close(),
    () => claude?.close(),
  ];
  for (const step of steps) {
    try {
      await step();
    } catch (e) {
      console.error("cleanup:", e);
    }
  }
});

const shot = (d: Device, name: string) => d.page.screenshot({ path: join(SHOTS, `${name}.png`) });

/** Lines of the terminal that are exactly `text` (output, not the command line echoing it). */
async function outputLines(d: Device, re: RegExp): Promise<string[]> {
  return (await terminalLines(d.page)).map((l) => l.trim()).filter((l) => re.test(l));
}

describe("desktop", () => {
  it("pairs from the QR code's link, lists the sessions, and types into one", async () => {
    desktop = await device("desktop");
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
    await page.getByRole("tab", { name: "Raw", exact: true }).click();
    const raw = page.getByLabel("Raw lines");
    await until("the host's message that there is no transcript", () =>
      raw.getByText(/no transcript/i).isVisible(),
    );

    // Claude Code names its transcript in every hook; this is how a session learns it.
    const path = join(host.dir, "raw-reader.jsonl");
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
      env: { ...host.env, PADDOCK_SESSION_ID: id },
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

describe("phone, 390×844, touch only", () => {
  it("pairs with the short code, opens a session and types with the key bar", async () => {
    phone = await device("phone");
    const { page } = phone;
    const offer = await host.pair("operator");
    await page.goto(host.url + "/");
    await page.getByRole("link", { name: "Pair a host" }).first().tap();
    await shot(phone, "phone-pair");
    await page.getByPlaceholder("ABCD-1234").tap();
    await page.keyboard.type(offer.code);
    await page.getByRole("button", { name: "Pair", exact: true }).tap();

    const card = page.locator(`[data-session="${shellId}"]`);
    await until("the session's card", () => card.isVisible());
    await shot(phone, "phone-dashboard");
    await card.tap();
    await until("a writable terminal", () =>
      page.locator('[data-testid="terminal"][data-writable="true"]').isVisible(),
    );
    await page.locator('[data-testid="terminal"]').tap();
    await page.keyboard.type('echo "phone-$((2+3))"');
    await page.getByRole("button", { name: "Enter" }).tap();
    await until("the output", async () => (await outputLines(phone!, /^phone-5$/)).length === 1);

    // Ctrl-C on the key bar interrupts a running command: the next one runs at once.
    await page.keyboard.type("sleep 60");
    await page.getByRole("button", { name: "Enter" }).tap();
    await page.getByRole("button", { name: "Ctrl-C" }).tap();
    await page.keyboard.type("echo after-$((1+1))-interrupt");
    await page.getByRole("button", { name: "Enter" }).tap();
    await until(
      "the command after Ctrl-C",
      async () => (await outputLines(phone!, /^after-2-interrupt$/)).length === 1,
      10_000,
    );
    await shot(phone, "phone-session");

    await page.getByRole("tab", { name: "Transcript" }).tap();
    await until("the transcript pane", () => page.getByLabel("Transcript").isVisible());
    await shot(phone, "phone-transcript");
  });

  it("shows the other screens at phone size", async () => {
    const { page } = phone!;
    for (const [hash, heading, name] of [
      ["#/system", "System", "phone-system"],
      ["#/hosts", "Hosts", "phone-hosts"],
    ] as const) {
      await page.goto(new URL(hash, host.url + "/").toString());
      await until(`the ${heading} page`, () =>
        page.getByRole("heading", { name: heading, exact: true }).isVisible(),
      );
      await shot(phone!, name);
    }
    // An operator device does not get the admin-only Devices list.
    await page.goto(new URL("#/devices", host.url + "/").toString());
    await until("the role notice", () => page.getByText(/Only an admin device/).isVisible());

    // The theme follows the system's: dark here.
    await page.emulateMedia({ colorScheme: "dark" });
    await page.goto(new URL("#/", host.url + "/").toString());
    await until(
      "the dark theme",
      async () => (await page.evaluate(() => document.documentElement.dataset.theme)) === "dark",
    );
    await until("the sessions", () => page.locator(`[data-session="${shellId}"]`).isVisible());
    await shot(phone!, "phone-dashboard-dark");
    await page.emulateMedia({ colorScheme: "light" });
  });

  it("finds the Claude Code session waiting for permission and approves it, touch only", async () => {
    const command = "echo approved-in-paddock > made.txt";
    claude = new ClaudeSandbox();
    await claude.start({
      replies: [
        {
          when: { type: "user_says", value: "please make a file" },
          answer: {
            kind: "message",
            blocks: [
              { type: "text", text: "I will create the file." },
              {
                type: "tool_use",
                name: "Bash",
                input: { command, description: "Create made.txt" },
              },
            ],
            usage: { input_tokens: 1200, output_tokens: 40 },
          },
        },
        {
          when: { type: "tool_result" },
          answer: {
            kind: "message",
            blocks: [{ type: "text", text: "Done: made.txt exists." }],
            usage: { input_tokens: 1300, output_tokens: 12 },
          },
        },
      ],
    });
    const id = await startClaude(host, claude, "claude-agent");
    const { page } = phone!;
    await page.goto(host.url + "/#/");
    const card = page.locator(`[data-session="${id}"]`);
    const state = () => card.locator("[data-state]").getAttribute("data-state");
    await until(
      "Claude Code at its prompt",
      async () => ["idle", "waiting_input"].includes((await state()) ?? ""),
      90_000,
    );

    // A message from the phone's message box starts the agent's turn.
    await card.tap();
    await page.getByLabel("Message to the agent").tap();
    await page.keyboard.type("please make a file");
    await page.getByRole("button", { name: "Send" }).tap();
    await until("the host to confirm the message", () =>
      page.getByText(/delivered your message/).isVisible(),
    );

    // On the dashboard the waiting session is first and loudest, and the title counts it.
    await page.getByRole("link", { name: "Back to sessions" }).tap();
    await until(
      "the session waiting for permission, first",
      async () =>
        (await state()) === "waiting_permission" &&
        (await page.locator("[data-session]").first().getAttribute("data-session")) === id,
      60_000,
    );
    const waiting = await page
      .locator('[data-state="waiting_permission"], [data-state="waiting_input"]')
      .count();
    expect(waiting).toBeGreaterThan(0);
    expect(await page.title()).toMatch(new RegExp(`^\\(${waiting}\\) Paddock: ${waiting} waiting`));
    expect(existsSync(`${claude.project}/made.txt`)).toBe(false);
    await shot(phone!, "phone-dashboard-permission");

    await card.tap();
    await until("the permission card", () =>
      page.getByRole("heading", { name: /Permission needed/ }).isVisible(),
    );
    await until("the exact command on it", () => page.getByText(command).first().isVisible());
    await shot(phone!, "phone-permission");
    await page.getByRole("button", { name: "Approve" }).tap();
    await until("the host to confirm the approval", () =>
      page.getByText(/Approved\. The host passed it/).isVisible(),
    );
    await until(
      "made.txt written by the real Bash tool",
      () =>
        existsSync(`${claude!.project}/made.txt`) &&
        readFileSync(`${claude!.project}/made.txt`, "utf8") === "approved-in-paddock\n",
      30_000,
    );
    await until(
      "the agent's reply in the terminal",
      async () => (await terminalLines(page)).some((l) => l.includes("Done: made.txt exists.")),
      30_000,
    );
    await shot(phone!, "phone-approved");

    // The transcript side: the Bash action the agent took, from the host's indexer.
    await page.getByRole("tab", { name: "Transcript" }).tap();
    await until(
      "the Bash action in the transcript",
      () => page.getByLabel("Transcript").getByText("Recent actions").isVisible(),
      30_000,
    );
    await until("its command", () =>
      page
        .getByLabel("Transcript")
        .getByText(/approved-in-paddock/)
        .first()
        .isVisible(),
    );
    await shot(phone!, "phone-transcript-claude");
  });
});
