/**
 * End-to-end harness: a real `paddock up` built from this workspace, real sessions started with
 * `paddock run`, and Debian's Chromium driven by playwright-core. Everything lives in a fresh
 * temporary directory and is removed by `close()`.
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import type { PairingOffer } from "../src/lib/wire";

const run = promisify(execFile);
export const REPO = resolve(import.meta.dirname, "../..");
export const PADDOCK = process.env.E2E_PADDOCK_BIN ?? join(REPO, "target/debug/paddock");
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
export const FAKEAPI = process.env.E2E_FAKEAPI_BIN ?? join(REPO, "target/debug/paddock-fakeapi");
export const CLAUDE = process.env.E2E_CLAUDE_BIN ?? "";
export const SHOTS = join(REPO, "docs/screenshots");

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a ? res(a.port) : rej(new Error("no port"))));
    });
  });
}

/** An error that ends a wait at once instead of being retried. */
export class Fatal extends Error {}

/** Waits until `f` returns a truthy value, or fails with `what` after `ms`. */
export async function until<T>(what: string, f: () => Promise<T> | T, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      if (e instanceof Fatal) throw e;
      last = e;
    }
    if (Date.now() > end)
      throw new Error(
        `timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

export class Host {
  readonly dir = mkdtempSync(join(tmpdir(), "paddock-e2e-"));
  readonly env: NodeJS.ProcessEnv;
  port = 0;
  url = "";
  #up: ChildProcess | null = null;
  #log = "";

  constructor() {
    for (const d of ["run", "data", "config"]) mkdirSync(join(this.dir, d), { mode: 0o700 });
    // Leave the machine's tmux alone: no bridging of other people's agent panes. Sessions get
    // this process's environment, not the machine's login shell's.
    writeFileSync(
      join(this.dir, "config", "config.toml"),
      "[tmux]\nenabled = false\n\n[agents]\nlogin_env = false\n",
    );
    this.env = {
      ...process.env,
      PADDOCK_RUNTIME_DIR: join(this.dir, "run"),
      PADDOCK_DATA_DIR: join(this.dir, "data"),
      PADDOCK_CONFIG_DIR: join(this.dir, "config"),
      PADDOCK_LOG: "info",
    };
  }

  /** Starts `paddock up` on the same port every time; resolves once it serves. */
  async up(): Promise<void> {
    if (!this.port) this.port = await freePort();
    const child = spawn(PADDOCK, ["up", "--port", String(this.port)], {
      env: this.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#up = child;
    child.stderr?.on("data", (b: Buffer) => (this.#log += b.toString()));
    let out = "";
    child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
    await until(
      "`paddock up` to say it is ready",
      () => {
        if (child.exitCode !== null)
          throw new Error(`paddock up exited ${child.exitCode}: ${this.#log.slice(-2000)}`);
        const m = /endpoint (\S+)/.exec(out);
        if (m) this.url = m[1]!.replace(/,$/, "");
        return m;
      },
      30_000,
    );
  }

  /** Stops `paddock up` (the agents keep running in their holders). */
  async down(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const c = this.#up;
    if (!c || c.exitCode !== null) return;
    const done = new Promise((r) => c.once("exit", r));
    c.kill(signal);
    await done;
    this.#up = null;
  }

  async paddock(...args: string[]): Promise<string> {
    const { stdout } = await run(PADDOCK, args, { env: this.env });
    return stdout;
  }

  /** Starts a real shell session; returns its id. */
  async shell(name: string): Promise<string> {
    const out = await this.paddock(
      "run",
      "--name",
      name,
      "--cols",
      "100",
      "--rows",
      "30",
      "--env",
      "PS1=$ ",
      "--env",
      "TERM=xterm-256color",
      "--",
      "bash",
      "--norc",
      "--noprofile",
      "-i",
    );
    return out.trim().split(/\s+/).pop()!;
  }

  async pair(role: "admin" | "operator" | "viewer" | "guest"): Promise<PairingOffer> {
    return JSON.parse(await this.paddock("pair", "--role", role, "--json")) as PairingOffer;
  }

  log(): string {
    return this.#log;
  }

  async close(): Promise<void> {
    try {
      // Paddock's own sessions only (the supervisor also lists other agents on the machine).
      const ls = JSON.parse(await this.paddock("ls", "--json")) as {
        id: string;
        backend?: string;
      }[];
      for (const s of ls.filter((s) => (s.backend ?? "holder") === "holder")) {
        await this.paddock("rm", "--force", s.id).catch(() => {});
      }
    } catch {
      /* nothing to remove */
    }
    await this.down("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Device {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * A fresh browser profile: desktop, or a 390×844 phone with touch. `extraArgs` go to Chromium
 * (the Web Push test passes `--ignore-certificate-errors`: a service worker is refused on the
 * host's self-signed certificate, as in any browser that does not trust it).
 */
export async function device(kind: "desktop" | "phone", extraArgs: string[] = []): Promise<Device> {
  const profile = mkdtempSync(join(tmpdir(), "paddock-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      ...extraArgs,
    ],
    ignoreHTTPSErrors: true, // the host's self-signed certificate; the apps pin its fingerprint
    ...(kind === "phone"
      ? {
          viewport: { width: 390, height: 844 },
          hasTouch: true,
          isMobile: true,
          deviceScaleFactor: 1,
        }
      : { viewport: { width: 1400, height: 900 } }),
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Every line of the xterm.js buffer of the terminal on the page (scrollback included). */
export async function terminalLines(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const el = document.querySelector('[data-testid="terminal"]') as
      | (HTMLElement & {
          terminal?: {
            buffer: {
              active: {
                length: number;
                getLine(i: number): { translateToString(trim: boolean): string } | undefined;
              };
            };
          };
        })
      | null;
    const b = el?.terminal?.buffer.active;
    if (!b) return [];
    const lines: string[] = [];
    for (let i = 0; i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? "");
    return lines;
  });
}

/** A Messages API request body as the fake dumped it (the parts tests read). */
export interface FakeRequestBody {
  messages?: { role: string; content: string | Record<string, unknown>[] }[];
}

/** The real Claude Code CLI (installed by scripts/install-agents.sh) talking to the fake API. */
export class ClaudeSandbox {
  readonly dir = mkdtempSync("/tmp/pdkui-");
  #fake: ChildProcess | null = null;
  apiUrl = "";
  readonly apiKey = "sk-ant-api03-paddock-fake-key-0123456789abcdefghij";

  get home(): string {
    return join(this.dir, "home");
  }
  get project(): string {
    return join(this.dir, "project");
  }
  /** Where the fake writes every request it received (`--dump`), one JSON file each. */
  get requestsDir(): string {
    return join(this.dir, "requests");
  }

  /** The JSON bodies of the requests the fake received so far, in arrival order. */
  requests(): FakeRequestBody[] {
    return readdirSync(this.requestsDir)
      .filter((f) => f.endsWith(".json"))
      .sort()
      .flatMap((f) => {
        try {
          const r = JSON.parse(readFileSync(join(this.requestsDir, f), "utf8")) as {
            body: FakeRequestBody;
          };
          return [r.body];
        } catch {
          return []; // being written
        }
      });
  }

  /** Starts `paddock-fakeapi` with `script` and writes a HOME where `claude` starts at its prompt. */
  async start(script: unknown): Promise<void> {
    mkdirSync(this.home, { recursive: true });
    mkdirSync(this.project, { recursive: true });
    writeFileSync(join(this.dir, "script.json"), JSON.stringify(script));
    mkdirSync(this.requestsDir, { recursive: true });
    const fake = spawn(
      FAKEAPI,
      ["--script", join(this.dir, "script.json"), "--dump", this.requestsDir],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.#fake = fake;
    let out = "";
    fake.stdout?.on("data", (b: Buffer) => (out += b.toString()));
    fake.stderr?.on("data", () => {});
    await until("the fake API to listen", () => {
      if (fake.exitCode !== null) throw new Fatal(`paddock-fakeapi exited ${fake.exitCode}`);
      const m = /listening on (\S+)/.exec(out);
      if (m) this.apiUrl = m[1]!;
      return m;
    });
    const version = /CLAUDE_CODE_VERSION=(\S+)/.exec(
      readFileSync(join(REPO, "scripts/agent-versions.env"), "utf8"),
    )![1];
    writeFileSync(
      join(this.home, ".claude.json"),
      JSON.stringify({
        hasCompletedOnboarding: true,
        lastOnboardingVersion: version,
        customApiKeyResponses: { approved: [this.apiKey.slice(-20)], rejected: [] },
        projects: {
          [this.project]: { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true },
        },
      }),
    );
  }

  /** The environment for `paddock run -- claude` (the holder passes it on to claude). */
  env(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...base };
    for (const k of Object.keys(env)) {
      if (
        /^(ANTHROPIC_|CLAUDE_CODE_|CLAUDECODE$|CLAUDE_CONFIG_DIR$|CODEX_|OPENAI_API_KEY$)/.test(k)
      )
        delete env[k];
    }
    const h = this.home;
    return {
      ...env,
      HOME: h,
      XDG_CONFIG_HOME: join(h, ".config"),
      XDG_CACHE_HOME: join(h, ".cache"),
      XDG_DATA_HOME: join(h, ".local/share"),
      XDG_STATE_HOME: join(h, ".local/state"),
      ANTHROPIC_API_KEY: this.apiKey,
      ANTHROPIC_BASE_URL: this.apiUrl,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_AUTOUPDATER: "1",
      DISABLE_TELEMETRY: "1",
      DISABLE_ERROR_REPORTING: "1",
    };
  }

  close(): void {
    this.#fake?.kill("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
}

/**
 * Starts the real `claude` in a Paddock session (Paddock injects its hooks) of the host whose
 * directories `host.env` names (a `Host`, or the app's own); returns the id.
 */
export async function startClaude(
  host: Pick<Host, "env">,
  sb: ClaudeSandbox,
  name: string,
  extraArgs: string[] = [],
): Promise<string> {
  if (!CLAUDE)
    throw new Fatal("E2E_CLAUDE_BIN is not set; scripts/e2e.sh installs Claude Code and sets it");
  const { stdout } = await run(
    PADDOCK,
    [
      "run",
      "--name",
      name,
      "--cols",
      "120",
      "--rows",
      "40",
      "--",
      CLAUDE,
      "--permission-mode",
      "manual",
      ...extraArgs,
    ],
    { env: sb.env(host.env), cwd: sb.project },
  );
  return stdout.trim().split(/\s+/).pop()!;
}
