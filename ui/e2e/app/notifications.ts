/**
 * The test notification server on the app's session bus: `paddock-notification-server`
 * (crates/fakeapi, the same server the Rust notification tests use) owns
 * `org.freedesktop.Notifications` on the bus `scripts/app-e2e.sh` started, records every
 * `Notify` and `CloseNotification`, and presses a button when asked, as a desktop's
 * notification daemon does when its owner clicks one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { Fatal, until } from "../harness";

export const NOTIFICATION_SERVER = process.env.E2E_NOTIFICATION_SERVER_BIN ?? "";

/** One notification as the server was asked to show it. */
export interface Shown {
  id: number;
  app: string;
  summary: string;
  body: string;
  /** Key/label pairs, as sent. */
  actions: string[];
  urgency: number | null;
  closed: boolean;
}

export class NotificationServer {
  readonly shown: Shown[] = [];
  #child: ChildProcess;
  #log = "";

  private constructor(child: ChildProcess) {
    this.#child = child;
  }

  /** Starts the server on the session bus; resolves once it owns the name. */
  static async start(): Promise<NotificationServer> {
    if (!NOTIFICATION_SERVER)
      throw new Fatal("E2E_NOTIFICATION_SERVER_BIN is not set; run scripts/app-e2e.sh");
    if (!process.env.DBUS_SESSION_BUS_ADDRESS)
      throw new Fatal("no session bus; run scripts/app-e2e.sh (it starts one)");
    const child = spawn(NOTIFICATION_SERVER, [], { stdio: ["pipe", "pipe", "pipe"] });
    const server = new NotificationServer(child);
    let ready = false;
    let partial = "";
    child.stdout?.on("data", (b: Buffer) => {
      partial += b.toString();
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        server.#log += line + "\n";
        const e = JSON.parse(line) as { event: string } & Shown;
        if (e.event === "ready") ready = true;
        if (e.event === "notify") server.shown.push({ ...e, closed: false });
        if (e.event === "closed") for (const s of server.shown) if (s.id === e.id) s.closed = true;
      }
    });
    child.stderr?.on("data", (b: Buffer) => (server.#log += b.toString()));
    await until("the notification server to own its name on the bus", () => {
      if (child.exitCode !== null)
        throw new Fatal(`paddock-notification-server exited ${child.exitCode}: ${server.#log}`);
      return ready;
    });
    return server;
  }

  /** Waits for a notification matching `pred`. */
  async waitFor(what: string, pred: (s: Shown) => boolean, ms = 60_000): Promise<Shown> {
    return until(
      what,
      () => {
        const s = this.shown.find(pred);
        if (s) return s;
        throw new Error(`the notification server saw:\n${this.#log}`);
      },
      ms,
    );
  }

  /** Presses the button `key` of notification `id` (the server emits `ActionInvoked`). */
  invoke(id: number, key: string): void {
    this.#child.stdin?.write(`invoke ${id} ${key}\n`);
  }

  close(): void {
    this.#child.stdin?.end();
    this.#child.kill();
  }
}
