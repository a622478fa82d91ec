/**
 * The must-show of the app in host mode: the real Claude Code CLI (against the local fake API),
 * started with `paddock run` in the app's own host, asks permission for a Bash command; the
 * host's notifier shows it on the desktop (the session bus of scripts/app-e2e.sh) with Approve
 * and Deny; the owner presses Approve on the notification; the tool runs, and the app's window
 * shows the session live and the request answered. Before that, the tray's "Pause
 * notifications" holds a first request (nothing on the desktop, the notifier's log says why)
 * and the tray's own submenu approves it.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { ClaudeSandbox, SHOTS, startClaude, until } from "../harness";
import { AppWindow } from "./driver";
import {
  keys,
  openTrayMenu,
  shotOfScreen,
  trayIcon,
  trayMenuClosed,
  type Geometry,
} from "./desktop";
import { NotificationServer } from "./notifications";

const run = promisify(execFile);
const PADDOCK = process.env.E2E_PADDOCK_BIN ?? "";

async function paddock(...args: string[]): Promise<string> {
  const { stdout } = await run(PADDOCK, args, { env: process.env });
  return stdout;
}

interface Listed {
  id: string;
  state: string;
}

const COMMAND = "echo approved-from-the-desktop > made.txt";

/** docs/screenshots/app-tray-menu.png: the open menu and the tray icon above it. */
function trayShot(menu: Geometry, icon: Geometry): void {
  mkdirSync(SHOTS, { recursive: true });
  const left = Math.max(0, menu.x - 24);
  shotOfScreen(join(SHOTS, "app-tray-menu.png"), {
    x: left,
    y: 0,
    width: icon.x + icon.width - left,
    height: menu.y + menu.height + 24,
  });
}
const DRAFT = "echo draft > draft.txt";

describe("the desktop app in host mode, with the real Claude Code", () => {
  let app: AppWindow | null = null;
  let notes: NotificationServer | null = null;
  let sb: ClaudeSandbox | null = null;
  let id = "";
  afterAll(async () => {
    if (id) await paddock("rm", "--force", id).catch(() => {});
    await app?.close();
    notes?.close();
    sb?.close();
  });

  it("approves a permission request from the desktop notification's Approve; the agent runs the tool", async () => {
    // The desktop's notification server first: the app's notifier finds it on the bus.
    notes = await NotificationServer.start();
    sb = new ClaudeSandbox();
    const bash = (command: string, text: string) => ({
      kind: "message",
      blocks: [
        { type: "text", text },
        { type: "tool_use", name: "Bash", input: { command, description: "Write a file" } },
      ],
      usage: { input_tokens: 1200, output_tokens: 40 },
    });
    const say = (text: string) => ({
      kind: "message",
      blocks: [{ type: "text", text }],
      usage: { input_tokens: 1300, output_tokens: 12 },
    });
    await sb.start({
      replies: [
        { when: { type: "user_says", value: "make a draft" }, answer: bash(DRAFT, "A draft.") },
        { when: { type: "tool_result" }, answer: say("Draft written.") },
        {
          when: { type: "user_says", value: "please make a file" },
          answer: {
            kind: "message",
            blocks: [
              { type: "text", text: "I will create the file." },
              {
                type: "tool_use",
                name: "Bash",
                input: { command: COMMAND, description: "Create made.txt" },
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
    app = await AppWindow.launch(["--open"], process.env);
    await until(
      "the app's embedded supervisor",
      async () => (JSON.parse(await paddock("status", "--json")) as { url: string | null }).url,
      60_000,
    );

    id = await startClaude({ env: process.env }, sb, "app-claude");
    await until(
      "Claude Code at its prompt, known by its hooks",
      async () => {
        const all = JSON.parse(await paddock("ls", "--json")) as Listed[];
        return ["idle", "waiting_input"].includes(all.find((s) => s.id === id)?.state ?? "");
      },
      90_000,
    );

    // The window shows the session live: Claude Code's own screen in the terminal pane.
    await app.waitText("app-claude", 30_000);
    await app.click(`[data-session="${id}"]`);
    await until(
      "Claude Code's prompt, rendered in the app's terminal",
      async () => (await app!.terminalRows()).some((l) => l.includes("? for shortcuts")),
      30_000,
    );

    // Paused from the tray, the host's notifier holds the request: nothing on the desktop,
    // and its log says why. The tray's own submenu answers it.
    const pauseMenu = await openTrayMenu();
    keys("Up", "Up", "Up", "Return"); // from the bottom: Quit, About, Pause notifications
    await trayMenuClosed(pauseMenu);
    await paddock("message", "app-claude", "make a draft");
    const held = await until(
      "the held notification in the notifier's log",
      async () => {
        const log = JSON.parse(await paddock("notifications", "list", "--json")) as {
          notifications: { id: string; kind: string }[];
          deliveries: { notification: string; channel: string; status: string; error?: string }[];
        };
        const n = log.notifications.find((n) => n.kind === "permission");
        return n && log.deliveries.find((d) => d.notification === n.id && d.channel === "desktop");
      },
      60_000,
    );
    expect(held).toMatchObject({ status: "skipped", error: "notifications are paused" });
    await app.waitText("Permission needed: Bash", 30_000);
    expect(notes.shown.filter((s) => s.body.includes(DRAFT))).toEqual([]);
    // The tray rebuilds its menu within a second of a change: until it lists the request,
    // the first item is "Open Paddock" (harmless), so try again until the file is written.
    await until(
      "draft.txt written once the tray's Approve was chosen",
      async () => {
        const menu = await openTrayMenu();
        // The picture of the attempt that works is the one kept: the waiting session first,
        // notifications paused.
        trayShot(menu, await trayIcon());
        keys("Down", "Right", "Return"); // the waiting session first; its submenu's Approve
        await trayMenuClosed(menu).catch(() => keys("Escape", "Escape"));
        return await until(
          "draft.txt",
          () => readFileSync(join(sb!.project, "draft.txt"), "utf8") === "draft\n",
          3_000,
        ).catch(() => false);
      },
      60_000,
    );
    const tray = JSON.parse(await paddock("approvals", "--all", "--json")) as {
      outcome?: { by?: string };
    }[];
    expect(tray[0]?.outcome?.by).toBe("the Paddock app (tray)");
    // Notifications again, from a terminal this time (the same request as the tray's).
    expect(await paddock("notifications", "resume")).toContain("resumed");

    await paddock("message", "app-claude", "please make a file");
    const shown = await notes.waitFor(
      "the permission request as a desktop notification",
      (s) => s.summary.includes("Bash") && s.body.includes(COMMAND),
    );
    expect(shown.actions).toEqual(["allow", "Approve", "deny", "Deny"]);
    expect(shown.urgency).toBe(2); // critical: stays until answered
    await app.waitText("Permission needed: Bash", 30_000);
    expect(existsSync(join(sb.project, "made.txt"))).toBe(false);

    // The owner presses Approve on the notification.
    notes.invoke(shown.id, "allow");
    await until(
      "made.txt written by the real Bash tool",
      () => readFileSync(join(sb!.project, "made.txt"), "utf8") === "approved-from-the-desktop\n",
      60_000,
    );
    const result = await until("the tool's result at the model API", () =>
      sb!
        .requests()
        .flatMap((r) => r.messages ?? [])
        .flatMap((m) => (typeof m.content === "string" ? [] : m.content))
        .find((b) => b.type === "tool_result"),
    );
    expect(result?.is_error ?? false).toBe(false);

    // Answered: the notification is withdrawn, the window's permission card goes, and the
    // agent's reply is in the terminal the window shows.
    await notes.waitFor("the answered notification closed", (s) => s.id === shown.id && s.closed);
    await until(
      "the window to show the request answered",
      async () => !(await app!.text()).includes("Permission needed"),
    );
    await until(
      "the agent's reply in the app's terminal",
      async () => (await app!.terminalRows()).some((l) => l.includes("Done: made.txt exists.")),
      30_000,
    );
    const approvals = JSON.parse(await paddock("approvals", "--all", "--json")) as {
      outcome?: { by?: string };
    }[];
    expect(approvals.map((a) => a.outcome?.by)).toContain("desktop notification");
    await until("the agent's reply in the window's conversation", async () =>
      (
        await app!.exec<string>(
          "return document.querySelector('[aria-label=\"Conversation\"]')?.innerText ?? '';",
        )
      ).includes("Done: made.txt exists."),
    );
    // A transcript not written yet when the window first asked is no error once it is.
    expect(
      await app.exec<string>(
        "return document.querySelector('[aria-label=\"Conversation\"]')?.innerText ?? '';",
      ),
    ).not.toContain("Cannot read");
    writeFileSync(join(SHOTS, "app-claude-approved.png"), await app.screenshot());
  });
});
