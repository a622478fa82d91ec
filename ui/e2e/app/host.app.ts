/**
 * Host mode: the real app runs the supervisor and the endpoint in-process, its window shows
 * the UI and reaches the shell over IPC, `paddock up` is refused while it runs (never two
 * supervisors), and ending the app leaves the agent running.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { SHOTS, until } from "../harness";
import { AppWindow } from "./driver";
import { keys, openTrayMenu, windowNamed } from "./desktop";

const run = promisify(execFile);
const PADDOCK = process.env.E2E_PADDOCK_BIN ?? "";

async function paddock(...args: string[]): Promise<string> {
  const { stdout } = await run(PADDOCK, args, { env: process.env });
  return stdout;
}

interface Status {
  pid: number;
  url: string | null;
  fingerprint: string | null;
}
interface Listed {
  id: string;
  name: string;
  pid: number;
  state: string;
  backend?: string;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("the desktop app in host mode", () => {
  let app: AppWindow | null = null;
  let agentPid = 0;
  afterAll(async () => {
    await app?.close();
    if (agentPid && alive(agentPid)) process.kill(agentPid, "SIGKILL");
  });

  it("runs the supervisor, shows the UI, and quitting leaves the agent running", async () => {
    // A retried attempt (vitest.app.config.ts) starts from nothing: the last attempt's app
    // and agent end, and this attempt's session has a name of its own.
    await app?.close();
    app = null;
    if (agentPid && alive(agentPid)) process.kill(agentPid, "SIGKILL");
    const name = `app-e2e-${Date.now().toString(36)}`;
    app = await AppWindow.launch(["--open"], process.env);
    // The embedded supervisor answers on the local socket; its pid is the app's.
    const status = (await until("the app's embedded supervisor", async () => {
      const s = JSON.parse(await paddock("status", "--json")) as Status;
      return s.url ? s : null;
    }))!;
    expect(readlinkSync(`/proc/${status.pid}/exe`)).toMatch(/paddock-app$/);
    expect(status.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    // The app keeps its own log, beside the supervisor's paddock.log, where the owner finds
    // what a tray app (no terminal) said.
    const appLog = join(process.env.PADDOCK_DATA_DIR ?? "", "logs", "app.log");
    await until(
      "the app's own log file to say who runs the supervisor",
      () =>
        existsSync(appLog) && readFileSync(appLog, "utf8").includes("This app runs the supervisor"),
    );

    // Never two supervisors: `paddock up` is refused and says who runs it.
    const up = await run(PADDOCK, ["up", "--port", "0"], { env: process.env }).then(
      () => "started",
      (e: { stderr?: string }) => e.stderr ?? "",
    );
    expect(up).toContain(`already running (pid ${status.pid}`);

    // The window is the one UI, and it reaches the shell through IPC.
    await app.waitText("Paddock", 60_000);
    const me = await app.exec<{ mode: string; url: string; pid: number }>(
      "return window.__TAURI_INTERNALS__.invoke('this_host');",
    );
    expect(me).toMatchObject({ mode: "embedded", url: status.url, pid: status.pid });
    mkdirSync(SHOTS, { recursive: true });

    // A session started with `paddock run` is the embedded supervisor's at once.
    const id = (
      await paddock(
        "run",
        "--name",
        name,
        "--env",
        "PS1=$ ",
        "--env",
        "TERM=xterm-256color",
        "--",
        "bash",
        "--norc",
        "--noprofile",
        "-i",
      )
    )
      .trim()
      .split(/\s+/)
      .pop()!;
    const listed = (await until("the app's supervisor to list the new session", async () => {
      const all = JSON.parse(await paddock("ls", "--json")) as Listed[];
      return all.find((s) => s.id === id);
    }))!;
    agentPid = listed.pid;
    expect(alive(agentPid)).toBe(true);

    // The window paired itself with its own host (pinned client over IPC) and shows the
    // session live; typing into its terminal reaches the shell.
    await app.waitText(name, 30_000);
    await app.openSession(id);
    // The window lists its own host once, at its current address: an earlier start of the
    // app with these directories (another test's) served on another port with the same
    // certificate, and its record followed the host here instead of staying as a dead one.
    const stored = await app.exec<{ url: string; thisComputer?: boolean }[]>(
      "return JSON.parse(localStorage.getItem('paddock.hosts') || '[]');",
    );
    expect(stored.filter((r) => r.thisComputer || r.url === status.url).map((r) => r.url)).toEqual([
      status.url,
    ]);
    await app.type(".xterm-helper-textarea", 'echo "app-$((6*7))-ok"\uE007');
    await until("the command's output in the session", async () => {
      // What the session got, when it is not that: typed keys lost or out of order.
      const got = await paddock("logs", id);
      if (got.includes("app-42-ok")) return true;
      throw new Error(`the session shows: ${JSON.stringify(got.slice(-300))}`);
    });
    // What the window shows, not only what xterm.js holds: WebKitGTK draws the terminal
    // with the DOM renderer (a WebGL pane there could stay black), so its rows are readable.
    expect(
      await app.exec<string>(
        "return document.querySelector('[data-testid=\"terminal\"]').dataset.renderer;",
      ),
    ).toBe("dom");
    await until("the typed command and its output, rendered in the window", async () => {
      const rows = await app!.terminalRows();
      return (
        rows.some((r) => r.includes('echo "app-$((6*7))-ok"')) &&
        rows.some((r) => r.trim() === "app-42-ok")
      );
    });
    writeFileSync(join(SHOTS, "app-window.png"), await app.screenshot());

    // The tray's "Pair a device…" opens the pairing window with this host's offer, and the
    // short code it shows pairs a device (the CLI on "another machine", here).
    await openTrayMenu();
    keys("Down", "Down", "Return"); // past "No agent needs you" (disabled): Open, Pair a device…
    await windowNamed("Pair a device");
    const main = await app.handle();
    const pairingView = (await app.handles()).find((h) => h !== main);
    expect(pairingView).toBeDefined();
    await app.switchTo(pairingView!);
    const shown = (await until("the pairing window's short code", async () => {
      const t = await app!.text();
      return /\b[A-Z0-9]{4}-[A-Z0-9]{4}\b/.test(t) ? t : null;
    }))!;
    expect(shown).toContain(status.url);
    expect(shown).toContain(status.fingerprint);
    writeFileSync(join(SHOTS, "app-pairing-window.png"), await app.screenshot());
    const code = /\b([A-Z0-9]{4}-[A-Z0-9]{4})\b/.exec(shown)![1]!;
    await paddock(
      "remote",
      "add",
      code,
      "--url",
      status.url!,
      "--fingerprint",
      status.fingerprint!,
      "--name",
      `${name}-remote`,
    );
    const remote = JSON.parse(
      await paddock("ls", "--host", `${name}-remote`, "--json"),
    ) as Listed[];
    expect(remote.map((s) => s.id)).toContain(id);
    await app.switchTo(main);

    // Quit: the app (and the supervisor in it) ends; the agent, in its holder, does not.
    await app.close();
    app = null;
    await until("the app's process to end", () => !alive(status.pid));
    expect(alive(agentPid)).toBe(true);
    const after = JSON.parse(await paddock("ls", "--json")) as Listed[];
    expect(after.find((s) => s.id === id)?.pid).toBe(agentPid);
    await paddock("rm", "--force", id);
  });
});
