/**
 * Settings › Notifications and Web Push against a real `paddock up`, in Debian's Chromium.
 *
 * - The settings page: a rule changed by an admin sticks after a reload (and is in the host's
 *   config.toml); Send test shows the host's clear result; the delivery log lists it with its
 *   failure; a viewer sees everything and can change nothing.
 * - Web Push: headless Chromium has no push service, so "Turn on push" must say so clearly
 *   (after registering the service worker). The host's pushes go to a push service on loopback
 *   here (this file's `LoopbackPush`, which decrypts RFC 8291 `aes128gcm` with the
 *   subscription's keys, as a browser does); the decrypted message is handed to the page's
 *   registered service worker with CDP's `ServiceWorker.deliverPushMessage`, exactly as a push
 *   service's message would be. The worker must show it with Approve / Deny; its click handler
 *   (`onNotificationClick`, the function the `notificationclick` listener runs) is invoked
 *   with the Approve action inside the worker, because no browser lets a test press a system
 *   notification's button; it posts the token, the real Claude Code runs the tool, and the
 *   other token is refused afterwards, naming who answered.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createECDH, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { createServer, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { ClaudeSandbox, device, Host, SHOTS, startClaude, until, type Device } from "./harness";
import type { CDPSession, Page } from "playwright-core";

let host: Host;
const open: Device[] = [];
let push: LoopbackPush | null = null;
let sb: ClaudeSandbox | null = null;

const SECRET = "webhook-secret-never-shown";

beforeAll(async () => {
  host = new Host();
  // A webhook to a port nobody listens on: its test send fails, as a real one would.
  const dead = await new Promise<number>((res) => {
    const s = createNetServer().listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => res(typeof a === "object" && a ? a.port : 9));
    });
  });
  appendFileSync(
    join(host.dir, "config", "config.toml"),
    // Presence off: this suite checks what a push does in the browser, and a visible tab
    // of its own would hold push for the owner "at" that device (presence is tested in
    // crates/cli/tests/notifications/delivery.rs).
    `\n[notify]\nattempts = 1\n\n[notify.presence]\nenabled = false\n\n[notify.webhook]\nenabled = true\nurl = "http://127.0.0.1:${dead}/hook"\nsecret = "${SECRET}"\n`,
  );
  await host.up();
});

afterAll(async () => {
  const steps = [
    ...open.map((d) => () => d.close()),
    () => host?.close(),
    () => push?.close(),
    () => sb?.close(),
  ];
  for (const step of steps) {
    try {
      await step();
    } catch (e) {
      console.error("cleanup:", e);
    }
  }
});

// A failed step says what the pages showed.
afterEach(async (ctx) => {
  if (ctx.task.result?.state !== "fail") return;
  for (const d of open) {
    const text = await d.page
      .locator("main")
      .innerText()
      .catch(() => "");
    console.error(`page ${d.page.url()}:\n${text.slice(0, 1500)}`);
  }
});

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });

async function paired(
  role: "admin" | "viewer",
  kind: "desktop" | "phone",
  args: string[] = [],
): Promise<Device> {
  const d = await device(kind, args);
  open.push(d);
  const offer = await host.pair(role);
  await d.page.goto(offer.pair_url);
  await d.page.getByRole("button", { name: "Pair this device" }).click();
  await until("the dashboard", () =>
    d.page.getByRole("heading", { name: /^Sessions/ }).isVisible(),
  );
  return d;
}

async function openNotifications(page: Page): Promise<void> {
  await page.goto(new URL("#/settings", host.url + "/").toString());
  await page.getByRole("link", { name: "Notifications" }).first().click();
  await until("the notification settings", () =>
    page.getByRole("heading", { name: "Channels" }).isVisible(),
  );
}

/** What the host's web_push channel sends (crates/notify/src/web_push.rs, `Payload`). */
interface PushPayload {
  kind: "show" | "withdraw";
  id: string;
  tag: string;
  title: string;
  body: string;
  url: string;
  tool: string | null;
  actions: { action: string; title: string; token: string }[];
}

/** A JSON answer, read loosely: tests look at a few fields. */
interface Answer {
  status: number;
  json: { access_token?: string; error?: { message: string } } | null;
}

/** The host's REST API from Node (its self-signed certificate is the one under test). */
function rest(method: string, path: string, token: string | null, body?: unknown): Promise<Answer> {
  const url = new URL(`/api/v1${path}`, host.url);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method,
        rejectUnauthorized: false,
        headers: {
          "Content-Type": "application/json",
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : null }),
        );
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** A push service on loopback: takes the host's encrypted pushes and decrypts them (RFC 8291). */
class LoopbackPush {
  readonly ecdh = createECDH("prime256v1");
  readonly auth = randomBytes(16);
  readonly received: PushPayload[] = [];
  #server: Server;
  endpoint = "";

  constructor() {
    this.ecdh.generateKeys();
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        try {
          this.received.push(
            JSON.parse(this.decrypt(Buffer.concat(chunks)).toString("utf8")) as PushPayload,
          );
          res.writeHead(201).end();
        } catch (e) {
          res.writeHead(400).end(String(e));
        }
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.#server.listen(0, "127.0.0.1", r));
    const a = this.#server.address();
    if (typeof a !== "object" || !a) throw new Error("no address");
    this.endpoint = `http://127.0.0.1:${a.port}/push/relay`;
  }

  keys(): { p256dh: string; auth: string } {
    return {
      p256dh: this.ecdh.getPublicKey().toString("base64url"),
      auth: this.auth.toString("base64url"),
    };
  }

  /** `aes128gcm`: salt(16) rs(4) idlen(1) keyid(server public key) ciphertext. */
  decrypt(body: Buffer): Buffer {
    const salt = body.subarray(0, 16);
    const idlen = body[20]!;
    const serverKey = body.subarray(21, 21 + idlen);
    const data = body.subarray(21 + idlen);
    const shared = this.ecdh.computeSecret(serverKey);
    const info = Buffer.concat([
      Buffer.from("WebPush: info\0"),
      this.ecdh.getPublicKey(),
      serverKey,
    ]);
    const ikm = Buffer.from(hkdfSync("sha256", shared, this.auth, info, 32));
    const cek = Buffer.from(hkdfSync("sha256", ikm, salt, "Content-Encoding: aes128gcm\0", 16));
    const nonce = Buffer.from(hkdfSync("sha256", ikm, salt, "Content-Encoding: nonce\0", 12));
    const d = createDecipheriv("aes-128-gcm", cek, nonce);
    d.setAuthTag(data.subarray(data.length - 16));
    const plain = Buffer.concat([d.update(data.subarray(0, data.length - 16)), d.final()]);
    let end = plain.length - 1;
    while (end > 0 && plain[end] === 0) end--;
    if (plain[end] !== 2) throw new Error("no final-record delimiter");
    return plain.subarray(0, end);
  }

  close(): void {
    this.#server.close();
  }
}

describe("Settings › Notifications", () => {
  it("an admin turns a rule off and it sticks after a reload, and in config.toml", async () => {
    const d = await paired("admin", "desktop");
    const { page } = d;
    await openNotifications(page);
    await shot(page, "desktop-notifications");
    const rule = page.getByLabel("An agent finished its turn and waits for you");
    expect(await rule.isChecked()).toBe(true);
    await rule.uncheck();
    await page.getByLabel("Hold notifications at night").check();
    await page.getByRole("button", { name: "Save" }).click();
    await until("the host to confirm", () => page.getByText("Saved: in force now.").isVisible());

    await page.reload();
    await until("the settings again", () =>
      page.getByRole("heading", { name: "Rules" }).isVisible(),
    );
    await until(
      "the rule still off after the reload",
      async () =>
        !(await page.getByLabel("An agent finished its turn and waits for you").isChecked()),
    );
    expect(await page.getByLabel("Hold notifications at night").isChecked()).toBe(true);
    const file = readFileSync(join(host.dir, "config", "config.toml"), "utf8");
    expect(file).toContain("waiting_input = false");
    expect(file).toContain("[tmux]"); // the test's own setting is kept

    // Pause and resume, as the owner would from the phone at night.
    await page.getByRole("button", { name: "Pause all notifications" }).click();
    await until("paused", () => page.getByText(/^Paused: nothing is sent/).isVisible());
    await page.getByRole("button", { name: "Resume notifications" }).click();
    await until("sending again", () => page.getByText("Sending notifications.").isVisible());
  });

  it("Send test shows the host's clear result and the log lists it with its failure", async () => {
    const { page } = open[0]!;
    const channel = page.locator('[data-channel="web_push"]');
    await channel.getByRole("button", { name: "Send test" }).click();
    const result = channel.getByTestId("test-result");
    await until("the test's result", async () => !(await result.innerText()).includes("Sending"));
    // No browser subscribed yet: the host says so, and what to do.
    expect(await result.getAttribute("role")).toBe("alert");
    expect(await result.innerText()).toMatch(/no browser has subscribed yet.*turn on push/i);
    const log = page.getByTestId("delivery-log");
    await until("the log entry", () => log.getByText("web_push: skipped").isVisible());

    // A channel that fails: the host's sentence, and the failure in the log.
    const hook = page.locator('[data-channel="webhook"]');
    await hook.getByRole("button", { name: "Send test" }).click();
    const failed = hook.getByTestId("test-result");
    await until(
      "the webhook's result",
      async () => !(await failed.innerText()).includes("Sending"),
    );
    expect(await failed.getAttribute("role")).toBe("alert");
    expect(await failed.innerText()).toMatch(/^Webhook could not deliver the test notification: /);
    await page.getByLabel("Failures only").check();
    await until("only the failure listed", async () => {
      const entries = log.locator("[data-notification]");
      return (
        (await entries.count()) === 1 &&
        (await entries.first().locator('[data-status="failed"]').innerText()).startsWith(
          "webhook: failed",
        )
      );
    });
    // The webhook's secret is in config.toml; the page never shows it.
    expect(await page.locator("main").innerText()).not.toContain(SECRET);
    await shot(page, "desktop-notifications-test-failed");
  });

  it("a viewer sees the settings and the log and cannot change them", async () => {
    const d = await paired("viewer", "phone");
    const { page } = d;
    await openNotifications(page);
    await until("the read-only note", () => page.getByTestId("read-only").isVisible());
    expect(await page.getByLabel("An agent asks permission").isDisabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Save" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Send test" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Pause all notifications" }).count()).toBe(0);
    await until("the log", () =>
      page.getByTestId("delivery-log").getByText("Paddock test notification").first().isVisible(),
    );
    await shot(page, "phone-notifications-viewer");
  });
});

describe("Web Push in the browser", () => {
  let d: Device;
  let registrationId = "";
  let cdp: CDPSession;

  beforeAll(async () => {
    d = await paired("admin", "desktop", ["--ignore-certificate-errors"]);
    await d.context.grantPermissions(["notifications"], { origin: host.url });
  });

  it("turning push on registers the worker and says clearly that this browser has no push service", async () => {
    const { page, context } = d;
    cdp = await context.newCDPSession(page);
    cdp.on("ServiceWorker.workerRegistrationUpdated", (e) => {
      const r = e.registrations.find((r) => r.scopeURL.startsWith(host.url) && !r.isDeleted);
      if (r) registrationId = r.registrationId;
    });
    await cdp.send("ServiceWorker.enable");
    await openNotifications(page);
    await page.getByRole("button", { name: "Turn on push on this device" }).click();
    const result = page.getByTestId("push-result");
    await until(
      "the push result",
      async () => !(await result.innerText()).includes("Turning on"),
      30_000,
    );
    expect(await result.innerText()).toMatch(/could not reach its push service/);
    await until("the worker's registration", () => registrationId !== "");
    await until("the worker active", () =>
      page.evaluate(async () => !!(await navigator.serviceWorker.ready).active),
    );
    await shot(page, "desktop-notifications-push-unavailable");
  });

  it("the worker shows a permission push with Approve and Deny, and Approve runs the tool", async () => {
    const { page, context } = d;
    push = new LoopbackPush();
    await push.start();
    // A second device stands in for a browser with a push service: its subscription points
    // at the loopback push service.
    const offer = await host.pair("admin");
    const grant = await rest("POST", "/pair", null, {
      secret: offer.secret,
      device_name: "push relay",
    });
    expect(grant.status).toBe(200);
    const sub = await rest(
      "POST",
      "/notifications/web-push/subscriptions",
      grant.json?.access_token ?? null,
      {
        endpoint: push.endpoint,
        keys: push.keys(),
      },
    );
    expect(sub.status, JSON.stringify(sub.json)).toBe(200);

    const command = "echo pushed-and-approved > pushed.txt";
    sb = new ClaudeSandbox();
    await sb.start({
      replies: [
        {
          when: { type: "user_says", value: "please make a file" },
          answer: {
            kind: "message",
            blocks: [
              { type: "tool_use", name: "Bash", input: { command, description: "Make a file" } },
            ],
            usage: { input_tokens: 1200, output_tokens: 40 },
          },
        },
        {
          when: { type: "tool_result" },
          answer: {
            kind: "message",
            blocks: [{ type: "text", text: "Done." }],
            usage: { input_tokens: 1300, output_tokens: 12 },
          },
        },
      ],
    });
    const id = await startClaude(host, sb, "claude-push");
    await until(
      "Claude Code at its prompt",
      async () => {
        const ls = JSON.parse(await host.paddock("ls", "--json")) as {
          id: string;
          state: string;
        }[];
        return ["idle", "waiting_input"].includes(ls.find((s) => s.id === id)?.state ?? "");
      },
      90_000,
    );
    await host.paddock("message", id, "please make a file");
    const shown = (await until(
      "the host's push for the permission request",
      () => push!.received.find((p) => p.kind === "show" && p.actions?.length === 2),
      60_000,
    ))!;
    expect(shown.tool).toBe("Bash");
    expect(shown.body).toContain("pushed-and-approved");

    await until("the worker activated", () =>
      page.evaluate(
        async () => (await navigator.serviceWorker.ready).active?.state === "activated",
      ),
    );
    // A push service delivers again what a browser did not take; so does this stand-in: a
    // message CDP hands over while Chromium is starting the worker can be lost.
    let delivered = 0;
    const deliver = async () => {
      delivered = Date.now();
      await cdp.send("ServiceWorker.deliverPushMessage", {
        origin: new URL(host.url).origin,
        registrationId,
        data: JSON.stringify(shown),
      });
    };
    await deliver();
    const shownInBrowser = (await until("the worker's notification", async () => {
      const list = await page.evaluate(async () =>
        (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({
          title: n.title,
          body: n.body,
          tag: n.tag,
          actions: ((n as Notification & { actions?: { title: string }[] }).actions ?? []).map(
            (a) => a.title,
          ),
        })),
      );
      const found = list.find((n) => n.tag === shown.tag);
      if (!found && Date.now() - delivered > 3000) await deliver();
      return found;
    }))!;
    expect(shownInBrowser.title).toBe(shown.title);
    expect(shownInBrowser.actions).toEqual(["Approve", "Deny"]);

    // What a press of Approve runs: the worker's click handler, inside the worker.
    const worker = context.serviceWorkers().find((w) => w.url().startsWith(host.url));
    expect(worker, "the page's service worker").toBeTruthy();
    const outcome = (await worker!.evaluate(async (tag: string) => {
      const sw = self as unknown as {
        registration: ServiceWorkerRegistration;
        onNotificationClick(n: Notification, action: string): Promise<unknown>;
      };
      const [n] = await sw.registration.getNotifications({ tag });
      return sw.onNotificationClick(n!, "allow");
    }, shown.tag)) as { ok: boolean; text: string };
    expect(outcome.ok, outcome.text).toBe(true);
    expect(outcome.text).toMatch(/^Approved \(web_push notification on push relay\)/);
    await until("the tool to run", () => existsSync(join(sb!.project, "pushed.txt")), 60_000);
    expect(readFileSync(join(sb.project, "pushed.txt"), "utf8").trim()).toBe("pushed-and-approved");
    const after = await page.evaluate(
      async (tag) =>
        (await (await navigator.serviceWorker.ready).getNotifications({ tag })).map((n) => n.title),
      shown.tag,
    );
    expect(after).toEqual(["Answered"]);

    // The other button, pressed late: refused, and told who answered.
    // The other button, pressed late (as a link button opens it: `#act=TOKEN`): refused,
    // and told who answered.
    const deny = shown.actions.find((a) => a.action === "deny")!;
    await page.goto(new URL(`#act=${deny.token}`, host.url + "/").toString());
    await page.getByRole("button", { name: "Send this answer" }).click();
    const late = page.getByTestId("act-result");
    await until("the late answer's result", () => late.isVisible());
    expect(await late.getAttribute("role")).toBe("alert");
    expect(await late.innerText()).toMatch(
      /already allowed by web_push notification on push relay/,
    );
    await shot(page, "desktop-act-refused-late");

    // The host takes the notification back everywhere (same tag, replaced by the outcome).
    const withdrawn = (await until("the withdrawal push", () =>
      push!.received.find((p) => p.kind === "withdraw" && p.tag === shown.tag),
    ))!;
    expect(withdrawn.body).toMatch(/Allowed by web_push notification/);
  });
});
