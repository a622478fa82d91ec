/**
 * The desktop app under WebDriver: tauri-driver (fronting WebKitWebDriver) starts the real
 * `paddock-app` binary and drives its webview with plain W3C WebDriver JSON. The display, the
 * session bus and tauri-driver itself are started by `scripts/app-e2e.sh`, which sets
 * `E2E_DRIVER_URL` and `E2E_APP_BIN`; this file only speaks the protocol. Reused by every app
 * end-to-end test (host mode, client mode, and the notification test of the notifier).
 */
import { until } from "../harness";

export const DRIVER = process.env.E2E_DRIVER_URL ?? "http://127.0.0.1:4444";
export const APP = process.env.E2E_APP_BIN ?? "";

interface WdValue<T> {
  value: T;
}

async function wd<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(DRIVER + path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as WdValue<
    T & { error?: string; message?: string }
  >;
  if (
    !res.ok ||
    (json.value && typeof json.value === "object" && "error" in json.value && json.value.error)
  ) {
    throw new Error(
      `WebDriver ${method} ${path}: ${res.status} ${JSON.stringify(json.value).slice(0, 500)}`,
    );
  }
  return json.value;
}

/** One run of the app, driven through its main window. */
export class AppWindow {
  private constructor(readonly session: string) {}

  /** Starts the app with these arguments and environment (its Paddock dirs). */
  static async launch(args: string[], env: NodeJS.ProcessEnv): Promise<AppWindow> {
    if (!APP) throw new Error("E2E_APP_BIN is not set; run scripts/app-e2e.sh");
    // tauri-driver starts the application with its own environment: the test's Paddock dirs
    // reach the app through the environment tauri-driver itself was given (app-e2e.sh), so
    // here they are checked, not set.
    for (const k of ["PADDOCK_RUNTIME_DIR", "PADDOCK_DATA_DIR", "PADDOCK_CONFIG_DIR"]) {
      if (env[k] !== process.env[k])
        throw new Error(
          `${k} differs between the test and tauri-driver; start both from scripts/app-e2e.sh`,
        );
    }
    const s = await wd<{ sessionId: string }>("POST", "/session", {
      capabilities: {
        alwaysMatch: {
          browserName: "wry",
          "tauri:options": { application: APP, args },
        },
      },
    });
    return new AppWindow(s.sessionId);
  }

  /** Runs `script` (a function body; `arguments` are `args`) in the window. */
  async exec<T>(script: string, ...args: unknown[]): Promise<T> {
    return wd<T>("POST", `/session/${this.session}/execute/sync`, { script, args });
  }

  /** The visible text of the page. */
  async text(): Promise<string> {
    return this.exec<string>("return document.body ? document.body.innerText : '';");
  }

  /** Waits until the page's text contains `s`. */
  async waitText(s: string, ms = 20_000): Promise<string> {
    let last = "";
    return until(
      `the app's window to show "${s}"`,
      async () => {
        last = await this.text();
        if (last.includes(s)) return s;
        throw new Error(`the window shows: ${JSON.stringify(last.slice(0, 300))}`);
      },
      ms,
    );
  }

  /**
   * The rows the session's terminal pane shows on screen (the DOM renderer's rows, not
   * xterm.js' buffer): what the owner sees. Fails if the pane draws with WebGL, whose rows
   * are pixels only.
   */
  async terminalRows(): Promise<string[]> {
    const got = await this.exec<{ renderer: string | null; rows: string[] }>(`
      const t = document.querySelector('[data-testid="terminal"]');
      const rows = t ? [...t.querySelectorAll('.xterm-rows > div')] : [];
      return { renderer: t && t.dataset.renderer,
               rows: rows.map((r) => r.textContent.replace(/\u00a0/g, ' ').trimEnd()) };`);
    if (got.renderer && got.renderer !== "dom")
      throw new Error(`the terminal draws with ${got.renderer}; its rows are not in the page`);
    return got.rows;
  }

  /**
   * Opens a session from the dashboard by clicking its card, as the owner does, and waits
   * for its terminal to take input. A click that lands while the list is still being laid
   * out (cards sort by urgency and move as states arrive) can miss; the owner would click
   * again, and so does this, once the window still shows the dashboard a few seconds later.
   * On a timeout the error says what the window showed: the route, whether the terminal
   * pane exists, its writable flag and the pane's status and problem lines.
   */
  async openSession(id: string, ms = 45_000): Promise<void> {
    const card = `[data-session="${id}"]`;
    await this.click(card);
    let clicked = Date.now();
    await until(
      `a writable terminal of session ${id}`,
      async () => {
        const seen = await this.exec<{
          hash: string;
          card: boolean;
          pane: boolean;
          writable: string | null;
          said: string;
        }>(
          `
          const t = document.querySelector('[data-testid="terminal"]');
          const wrap = t && t.closest('.term-wrap');
          return { hash: location.hash, card: !!document.querySelector(arguments[0]),
                   pane: !!t, writable: t && t.dataset.writable,
                   said: wrap ? [...wrap.querySelectorAll('[role="status"],[role="alert"]')]
                     .map((e) => e.textContent.trim()).join(' | ') : '' };`,
          card,
        );
        if (seen.writable === "true") return true;
        if (!seen.pane && seen.card && Date.now() - clicked > 3_000) {
          await this.click(card);
          clicked = Date.now();
        }
        throw new Error(`the window shows ${JSON.stringify(seen)}`);
      },
      ms,
    );
  }

  /** Clicks the first element matching a CSS selector. */
  async click(css: string): Promise<void> {
    const el = await wd<Record<string, string>>("POST", `/session/${this.session}/element`, {
      using: "css selector",
      value: css,
    });
    await wd("POST", `/session/${this.session}/element/${Object.values(el)[0]}/click`, {});
  }

  /** Clicks the first `tag` element whose whole text is `text` (e.g. a button's label). */
  async clickText(tag: string, text: string): Promise<void> {
    const el = await wd<Record<string, string>>("POST", `/session/${this.session}/element`, {
      using: "xpath",
      value: `//${tag}[normalize-space(.)=${JSON.stringify(text)}]`,
    });
    await wd("POST", `/session/${this.session}/element/${Object.values(el)[0]}/click`, {});
  }

  /** Types text (WebDriver keys: "\uE007" is Enter) into the element matching a selector. */
  async type(css: string, text: string): Promise<void> {
    const el = await wd<Record<string, string>>("POST", `/session/${this.session}/element`, {
      using: "css selector",
      value: css,
    });
    await wd("POST", `/session/${this.session}/element/${Object.values(el)[0]}/value`, { text });
  }

  /** Empties the input matching a selector (as selecting its text and deleting it). */
  async clear(css: string): Promise<void> {
    const el = await wd<Record<string, string>>("POST", `/session/${this.session}/element`, {
      using: "css selector",
      value: css,
    });
    await wd("POST", `/session/${this.session}/element/${Object.values(el)[0]}/clear`, {});
  }

  /** The handles of the app's webview windows WebDriver can drive. */
  async handles(): Promise<string[]> {
    return wd<string[]>("GET", `/session/${this.session}/window/handles`);
  }

  /** The handle of the window being driven. */
  async handle(): Promise<string> {
    return wd<string>("GET", `/session/${this.session}/window`);
  }

  /** Drives the window with this handle from now on. */
  async switchTo(handle: string): Promise<void> {
    await wd("POST", `/session/${this.session}/window`, { handle });
  }

  /** Saves a PNG of the window. */
  async screenshot(): Promise<Buffer> {
    const b64 = await wd<string>("GET", `/session/${this.session}/screenshot`);
    return Buffer.from(b64, "base64");
  }

  /** Ends the WebDriver session (tauri-driver then stops the app process). */
  async close(): Promise<void> {
    await wd("DELETE", `/session/${this.session}`).catch(() => {});
  }
}
