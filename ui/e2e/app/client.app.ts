/**
 * Client mode: the app is a client of another host. A second real `paddock up` (its own
 * runtime and data directories, "another machine") offers a pairing; the operating system
 * opens its `paddock://pair?…` link with the app (a second launch with the link, which the
 * running app receives); the window pairs through the pinned client, lists that host's
 * session, opens it, and typing in its terminal reaches the remote shell. Then a third host's
 * short code, typed with its address and certificate fingerprint as `paddock pair` prints
 * them, pairs the app with it too.
 */
import { execFile, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { Host, SHOTS, until } from "../harness";
import { APP, AppWindow } from "./driver";

const run = promisify(execFile);
const PADDOCK = process.env.E2E_PADDOCK_BIN ?? "";

describe("the desktop app as a client of another host", () => {
  let app: AppWindow | null = null;
  const other = new Host();
  const third = new Host();
  afterAll(async () => {
    await app?.close();
    await other.close();
    await third.close();
  });

  it("pairs with another paddock up through its pairing link, opens its session and types into it", async () => {
    await other.up();
    const id = await other.shell("on-the-other-host");
    app = await AppWindow.launch(["--open"], process.env);
    await until(
      "the app's own supervisor",
      async () => {
        const { stdout } = await run(PADDOCK, ["status", "--json"], { env: process.env });
        return (JSON.parse(stdout) as { url: string | null }).url;
      },
      60_000,
    );
    await app.waitText("Paddock", 60_000);

    // The other host's offer, as the link its QR code's phone camera or a click would open.
    const offer = await other.pair("operator");
    expect(offer.url).not.toBe("");
    const link =
      `paddock://pair?url=${encodeURIComponent(offer.url)}` +
      `&secret=${encodeURIComponent(offer.secret)}&fp=${offer.fingerprint}`;
    // The desktop opens a paddock:// link by starting the app with it; the running app gets it.
    const second = spawn(APP, [link], { env: process.env, stdio: "ignore" });
    const secondExit = new Promise<number | null>((r) => second.once("exit", r));
    await app.waitText(`Pair with ${new URL(offer.url).host}`, 30_000);
    expect(await secondExit).toBe(0); // it handed the link over and left
    mkdirSync(SHOTS, { recursive: true });
    writeFileSync(join(SHOTS, "app-client-pair.png"), await app.screenshot());
    await app.clickText("button", "Pair this device");

    // The other host's session is listed; open it and type.
    await app.waitText("on-the-other-host", 30_000);
    await app.openSession(id);
    await app.type(".xterm-helper-textarea", 'echo "remote-$((40+2))"\uE007');
    await until("the typed command's output on the other host", async () => {
      // What the session got, when it is not that: typed keys lost or out of order.
      const got = await other.paddock("logs", id);
      if (got.includes("remote-42")) return true;
      throw new Error(`the remote session shows: ${JSON.stringify(got.slice(-300))}`);
    });
    await until("its output, rendered in the app's window", async () =>
      (await app!.terminalRows()).some((r) => r.trim() === "remote-42"),
    );
    // The device the app paired as is the other host's, with the role it was offered.
    const devices = JSON.parse(await other.paddock("devices", "list", "--json")) as {
      role: string;
    }[];
    expect(devices.map((d) => d.role)).toEqual(["operator"]);
    writeFileSync(join(SHOTS, "app-client-session.png"), await app.screenshot());
  });

  it("pairs with a third host by its typed short code, address and fingerprint", async () => {
    // Runs after the test above, in the same app.
    expect(app).not.toBeNull();
    await third.up();
    await third.shell("on-the-third-host");
    const offer = await third.pair("viewer");
    expect(offer.code).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    await app!.exec("window.location.hash = '#/pair';");
    await app!.waitText("Pair a host");
    await app!.clear('input[inputmode="url"]');
    await app!.type('input[inputmode="url"]', offer.url);
    await app!.type('input[autocomplete="one-time-code"]', offer.code.toLowerCase());
    // Without the fingerprint the app cannot check the host: it says so, and sends nothing.
    await app!.clickText("button", "Pair");
    await app!.waitText("certificate fingerprint too");
    expect(JSON.parse(await third.paddock("devices", "list", "--json"))).toEqual([]);
    await app!.type('input[name="fingerprint"]', offer.fingerprint);
    await app!.clickText("button", "Pair");
    await app!.waitText("on-the-third-host", 30_000);
    const devices = JSON.parse(await third.paddock("devices", "list", "--json")) as {
      role: string;
    }[];
    expect(devices.map((d) => d.role)).toEqual(["viewer"]);
    // The first host is still there beside it.
    await app!.waitText("on-the-other-host");
  });
});
