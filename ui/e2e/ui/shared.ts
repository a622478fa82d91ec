/**
 * What the areas of ui.e2e.ts share: one `paddock up` with two shell sessions (`build-shell`,
 * `tests-shell`), the desktop and phone paired by earlier tests, and helpers.
 */
import { afterAll, beforeAll } from "vitest";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ClaudeSandbox, device, Host, SHOTS, terminalLines, until, type Device } from "../harness";

export let host: Host;
export let shellId = "";
export let desktop: Device | null = null;
export let phone: Device | null = null;
export let claude: ClaudeSandbox | null = null;

/** Records the desktop browser the later tests use (and closes it after them); returns it. */
export function setDesktop(d: Device): Device {
  desktop = d;
  return d;
}

/** Records the phone the later tests use (and closes it after them); returns it. */
export function setPhone(d: Device): Device {
  phone = d;
  return d;
}

/** Records the Claude Code sandbox to close after the file; returns it. */
export function setClaude(c: ClaudeSandbox): ClaudeSandbox {
  claude = c;
  return c;
}

/** The file's host (two shell sessions) for every area, and what is left to close after them. */
export function sharedHost(): void {
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
}

export const shot = (d: Device, name: string) =>
  d.page.screenshot({ path: join(SHOTS, `${name}.png`) });

/** Lines of the terminal that are exactly `text` (output, not the command line echoing it). */
export async function outputLines(d: Device, re: RegExp): Promise<string[]> {
  return (await terminalLines(d.page)).map((l) => l.trim()).filter((l) => re.test(l));
}

/** A desktop browser paired with the test host as `role`, on the dashboard. */
export async function pairedDesktop(role: "admin" | "operator"): Promise<Device> {
  const d = await device("desktop");
  const offer = await host.pair(role);
  await d.page.goto(offer.pair_url);
  await d.page.getByRole("button", { name: "Pair this device" }).click();
  await until("the dashboard", () => d.page.locator(`[data-session="${shellId}"]`).isVisible());
  return d;
}

/** Opens a session's page from the dashboard, as a user would. */
export async function openSession(d: Device, id: string): Promise<void> {
  await d.page.goto(new URL("#/", host.url + "/").toString());
  const card = d.page.locator(`[data-session="${id}"]`);
  await until("the session's card", () => card.isVisible());
  await card.click();
  await until("the session's page", () =>
    d.page.getByRole("link", { name: "Back to sessions" }).isVisible(),
  );
}

/** The process state letter in /proc/<pid>/stat (R, S, T, Z...), or null once it is gone. */
export function procState(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "")[0] ?? null;
  } catch {
    return null;
  }
}

export interface Listed {
  id: string;
  pid: number;
  state: string;
}
export async function listed(id: string): Promise<Listed | undefined> {
  return (JSON.parse(await host.paddock("ls", "--json")) as Listed[]).find((s) => s.id === id);
}
