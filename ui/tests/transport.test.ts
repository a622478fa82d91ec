import { describe, expect, it } from "vitest";
import {
  browserTransport,
  chooseTransport,
  OPEN,
  pinnedTransport,
  transport,
  Unreachable,
  webglTerminal,
  type Ipc,
} from "../src/lib/backend/transport";

/** A shell that records every command and answers like the app's Rust side would. */
function fakeShell(pinned: boolean, webgl?: boolean) {
  const calls: { cmd: string; args?: Record<string, unknown> }[] = [];
  const channels: ((m: unknown) => void)[] = [];
  const ipc: Ipc = {
    async invoke<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
      calls.push({ cmd, args });
      switch (cmd) {
        case "capabilities":
          return { pinned_transport: pinned, webgl_terminal: webgl } as T;
        case "request":
          if (args?.url === "https://gone:1")
            throw { code: "unreachable", message: "the host at https://gone:1 does not answer" };
          if (args?.url === "https://other:1")
            throw { code: "certificate_changed", message: "the host presents another certificate" };
          return { status: 200, text: JSON.stringify({ asked: args?.path }) } as T;
        case "stream_open":
          return 7 as T;
        default:
          return null as T;
      }
    },
    channel<T>(onMessage: (m: T) => void) {
      channels.push(onMessage as (m: unknown) => void);
      return { id: channels.length };
    },
  };
  return { ipc, calls, channels };
}

describe("the transport", () => {
  it("stays fetch and WebSocket where no shell answers", async () => {
    expect(await chooseTransport(async () => null)).toBe(browserTransport);
    expect(transport().kind).toBe("browser");
  });

  it("is the app's pinned client when the shell says it carries REST and WSS", async () => {
    const shell = fakeShell(true);
    const t = await chooseTransport(async () => shell.ipc);
    expect(t.kind).toBe("pinned");
    expect(transport()).toBe(t);
    const fp = "ab".repeat(32);
    const r = await t.request("https://h:7420", fp, "GET", "/sessions", { Accept: "x" }, undefined);
    expect(r).toEqual({ status: 200, text: '{"asked":"/sessions"}' });
    // The pin travels with every request: the Rust side refuses any other certificate.
    expect(shell.calls.at(-1)).toEqual({
      cmd: "request",
      args: {
        url: "https://h:7420",
        fingerprint: fp,
        method: "GET",
        path: "/sessions",
        headers: { Accept: "x" },
        body: null,
      },
    });
  });

  it("lets the terminal use WebGL unless the shell says its webview draws it badly", async () => {
    await chooseTransport(async () => null);
    expect(webglTerminal()).toBe(true);
    await chooseTransport(async () => fakeShell(true, false).ipc);
    expect(webglTerminal()).toBe(false);
    await chooseTransport(async () => fakeShell(true).ipc); // an older shell: not said
    expect(webglTerminal()).toBe(true);
  });

  it("keeps the browser transport when the shell cannot pin", async () => {
    const shell = fakeShell(false);
    expect((await chooseTransport(async () => shell.ipc)).kind).toBe("browser");
  });

  it("reports a host the shell cannot reach, or one with another certificate, with the code", async () => {
    const t = pinnedTransport(fakeShell(true).ipc);
    await expect(t.request("https://gone:1", null, "GET", "/me", {}, undefined)).rejects.toEqual(
      new Unreachable("the host at https://gone:1 does not answer", "unreachable"),
    );
    const changed = await t
      .request("https://other:1", "fp", "GET", "/me", {}, undefined)
      .catch((e: unknown) => e);
    expect(changed).toBeInstanceOf(Unreachable);
    expect((changed as Unreachable).code).toBe("certificate_changed");
  });

  it("streams text and binary frames of a socket through the channel, then its close", async () => {
    const shell = fakeShell(true);
    const ws = pinnedTransport(shell.ipc).socket("wss://h:7420/api/v1/ws", "fp");
    const seen: (string | number)[] = [];
    ws.onopen = () => seen.push("open");
    ws.onmessage = (ev) =>
      seen.push(typeof ev.data === "string" ? ev.data : (ev.data as ArrayBuffer).byteLength);
    ws.onclose = (ev) => seen.push(`close ${ev.code} ${ev.reason}`);
    const deliver = shell.channels[0]!;
    deliver({ kind: "open" });
    expect(ws.readyState).toBe(OPEN);
    ws.send('{"type":"auth"}');
    deliver({ kind: "text", data: '{"type":"ready"}' });
    deliver(new Uint8Array([1, 2, 3]).buffer);
    deliver({ kind: "close", code: 4401, reason: "token refused" });
    await Promise.resolve();
    await Promise.resolve();
    expect(seen).toEqual(["open", '{"type":"ready"}', 3, "close 4401 token refused"]);
    const opened = shell.calls.find((c) => c.cmd === "stream_open");
    expect(opened?.args?.url).toBe("wss://h:7420/api/v1/ws");
    expect(opened?.args?.fingerprint).toBe("fp");
    expect(shell.calls.find((c) => c.cmd === "stream_send")?.args).toEqual({
      id: 7,
      texts: ['{"type":"auth"}'],
    });
  });

  it("keeps typed frames in order: one send in flight, the rest together after it, then the close", async () => {
    // The shell answers each stream_send only when told, as a slow IPC round trip would.
    const shell = fakeShell(true);
    const answers: (() => void)[] = [];
    const invoke = shell.ipc.invoke.bind(shell.ipc);
    shell.ipc.invoke = <T>(cmd: string, args?: Record<string, unknown>): Promise<T> =>
      cmd === "stream_send"
        ? invoke<T>(cmd, args).then((v) => new Promise<T>((r) => answers.push(() => r(v))))
        : invoke<T>(cmd, args);
    const ws = pinnedTransport(shell.ipc).socket("wss://h:7420/api/v1/ws", "fp");
    shell.channels[0]!({ kind: "open" });
    const settle = async () => {
      for (let i = 0; i < 10; i++) await Promise.resolve();
    };
    ws.send("e");
    await settle();
    for (const key of ["c", "h", "o", "\r"]) ws.send(key);
    ws.close();
    await settle();
    const sends = () =>
      shell.calls.filter((c) => c.cmd === "stream_send").map((c) => c.args?.texts);
    // Only the first key is out; nothing overtakes it, not even the close.
    expect(sends()).toEqual([["e"]]);
    expect(shell.calls.some((c) => c.cmd === "stream_close")).toBe(false);
    answers.shift()!();
    await settle();
    expect(sends()).toEqual([["e"], ["c", "h", "o", "\r"]]);
    expect(shell.calls.some((c) => c.cmd === "stream_close")).toBe(false);
    answers.shift()!();
    await settle();
    expect(shell.calls.at(-1)).toEqual({ cmd: "stream_close", args: { id: 7, code: 1000 } });
  });
});
