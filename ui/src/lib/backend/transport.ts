/**
 * How the backend reaches a host: `fetch` and `WebSocket` in a browser, or the Paddock app's
 * pinned Rust client through Tauri IPC (a webview cannot pin a self-signed certificate; Rust
 * can). Chosen once at start by asking the shell what it can do (`capabilities`), never by
 * looking at the platform; `http.ts` and `socket.ts` use whichever was chosen, and views know
 * nothing of it.
 */
import type { RelayReply, ShellCapabilities, ShellError, StreamMessage } from "./types";

/** A host's answer to a REST request (a `fetch`'s, or the shell's relayed one). */
export type Reply = RelayReply;

/** What `socket.ts` uses of a WebSocket; the IPC stream implements the same. */
export interface SocketLike {
  binaryType: BinaryType;
  readonly readyState: number;
  onopen: (() => void) | null;
  onmessage: ((ev: { data: string | ArrayBuffer }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  send(data: string): void;
  close(code?: number): void;
}

/** The readyState of an open socket (WebSocket.OPEN). */
export const OPEN = 1;

export interface Transport {
  /** `browser` (fetch, WebSocket) or `pinned` (the app's Rust client, pinning `fingerprint`). */
  readonly kind: "browser" | "pinned";
  request(
    baseUrl: string,
    fingerprint: string | null,
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<Reply>;
  socket(wsUrl: string, fingerprint: string | null): SocketLike;
}

/**
 * Thrown when no answer came: the host cannot be reached, or (the app's pinned client) it
 * presented another certificate than the pinned one (`certificate_changed`).
 */
export class Unreachable extends Error {
  constructor(
    message: string,
    readonly code: string = "unreachable",
  ) {
    super(message);
  }
}

export const browserTransport: Transport = {
  kind: "browser",
  async request(baseUrl, _fp, method, path, headers, body) {
    let res: Response;
    try {
      res = await fetch(baseUrl + "/api/v1" + path, {
        method,
        headers,
        body,
        credentials: "omit",
        cache: "no-store",
      });
    } catch (e) {
      throw new Unreachable(String(e));
    }
    return { status: res.status, text: await res.text() };
  },
  socket(wsUrl) {
    // A WebSocket is a SocketLike; only its handlers' `this` and event types are wider.
    return new WebSocket(wsUrl) as unknown as SocketLike;
  },
};

/** The subset of `@tauri-apps/api/core` used here, injected so it can be tested. */
export interface Ipc {
  invoke<T>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  channel<T>(onMessage: (m: T) => void): unknown;
}

/** A WSS connection held by the app's Rust client; frames come back over an IPC channel. */
class IpcSocket implements SocketLike {
  binaryType: BinaryType = "arraybuffer";
  readyState = 0;
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: string | ArrayBuffer }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  #id: Promise<number | null>;
  /** Frames not yet handed to the shell, in order. */
  readonly #queue: string[] = [];
  #flushing: Promise<void> | null = null;

  constructor(
    private readonly ipc: Ipc,
    url: string,
    fingerprint: string | null,
  ) {
    const channel = ipc.channel<StreamMessage | ArrayBuffer>((m) => this.#on(m));
    this.#id = ipc
      .invoke<number>("stream_open", { url, fingerprint, channel })
      .catch((e: unknown) => {
        this.#closed(1006, String(e));
        return null;
      });
  }

  #on(m: StreamMessage | ArrayBuffer): void {
    if (m instanceof ArrayBuffer) {
      this.onmessage?.({ data: m });
    } else if (m.kind === "open") {
      this.readyState = OPEN;
      this.onopen?.();
    } else if (m.kind === "text") {
      this.onmessage?.({ data: m.data });
    } else {
      this.#closed(m.code, m.reason);
    }
  }

  #closed(code: number, reason: string): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /**
   * Frames keep their order: Tauri runs each command invocation as its own task, so two
   * `stream_send`s in flight at once can reach the socket swapped (typed keys arriving
   * scrambled). One is in flight at a time; frames sent meanwhile go together in the next.
   */
  send(data: string): void {
    this.#queue.push(data);
    this.#flushing ??= this.#flush();
  }

  async #flush(): Promise<void> {
    const id = await this.#id;
    while (id !== null && this.#queue.length > 0) {
      const texts = this.#queue.splice(0);
      // Refused: the socket is closed, and its close reaches `onclose` over the channel.
      await this.ipc.invoke("stream_send", { id, texts }).catch(() => (this.#queue.length = 0));
    }
    this.#flushing = null;
  }

  /** Closes after the frames already sent (a close must not overtake them). */
  close(code = 1000): void {
    this.readyState = 3;
    void (this.#flushing ?? Promise.resolve())
      .then(() => this.#id)
      .then((id) => {
        if (id !== null) return this.ipc.invoke("stream_close", { id, code });
      });
  }
}

/** The transport through the app's pinned Rust client. */
export function pinnedTransport(ipc: Ipc): Transport {
  return {
    kind: "pinned",
    async request(baseUrl, fingerprint, method, path, headers, body) {
      try {
        return await ipc.invoke<Reply>("request", {
          url: baseUrl,
          fingerprint,
          method,
          path,
          headers,
          body: body ?? null,
        });
      } catch (e) {
        // The shell answers a `ShellError` (paddock-client's stable codes); Tauri itself may
        // answer a bare string (an unknown command).
        const err = e as Partial<ShellError> | string;
        if (typeof err === "object" && err && typeof err.message === "string")
          throw new Unreachable(err.message, typeof err.code === "string" ? err.code : undefined);
        throw new Unreachable(String(e));
      }
    },
    socket(wsUrl, fingerprint) {
      return new IpcSocket(ipc, wsUrl, fingerprint);
    },
  };
}

let chosen: Transport = browserTransport;
let webgl = true;

/** Whether the terminal may try xterm.js' WebGL renderer here (the shell says; browsers may). */
export function webglTerminal(): boolean {
  return webgl;
}

/** The transport chosen at start. */
export function transport(): Transport {
  return chosen;
}

/**
 * Asks the shell (if any) what it can do and picks the transport; called once before the UI
 * mounts. In a browser there is no shell to ask and nothing is loaded.
 */
export async function chooseTransport(
  loadIpc: () => Promise<Ipc | null> = loadTauriIpc,
): Promise<Transport> {
  chosen = browserTransport;
  webgl = true;
  const ipc = await loadIpc();
  if (ipc) {
    // Partial: a shell too old to say something, or one that does not answer, says nothing.
    const caps = await ipc
      .invoke<Partial<ShellCapabilities>>("capabilities")
      .catch((): Partial<ShellCapabilities> => ({ pinned_transport: false }));
    if (caps.pinned_transport) chosen = pinnedTransport(ipc);
    webgl = caps.webgl_terminal ?? true;
  }
  return chosen;
}

/** Tauri's IPC, when this page runs inside the app's webview (loaded only there). */
async function loadTauriIpc(): Promise<Ipc | null> {
  if (!("__TAURI_INTERNALS__" in globalThis)) return null;
  const core = await import("@tauri-apps/api/core");
  return {
    invoke: (cmd, args) => core.invoke(cmd, args),
    channel: (onMessage) => {
      const c = new core.Channel<never>();
      c.onmessage = onMessage as (m: never) => void;
      return c;
    },
  };
}
