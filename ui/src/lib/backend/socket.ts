/**
 * One reconnecting WSS connection per host: authenticates with its first message (the token
 * never goes in the URL), subscribes to events, keeps terminal attachments across reconnects
 * (each resumes from the offset after the last byte it showed), and backs off while the host
 * is away. Its outgoing queue is bounded: while the socket is down nothing is queued but the
 * subscriptions themselves; typing is refused, not stored for later.
 */
import {
  decodeTerminalFrame,
  encodeInput,
  EVENT_TYPES,
  type ClientMessage,
  type ServerMessage,
} from "./protocol";
import { TerminalStream, type StreamAction } from "./terminal-stream";
import type { ServerEvent } from "./types";

export type SocketState = "connecting" | "open" | "closed" | "auth_failed";

export interface SocketHandlers {
  onState(state: SocketState, detail: string): void;
  onEvent(e: ServerEvent): void;
  onAuthError(code: string, message: string): void;
}

interface Attachment {
  stream: TerminalStream;
  sink: (a: StreamAction) => void;
  onError: (message: string) => void;
  cols: number;
  rows: number;
}

const MAX_QUEUE = 64;

export class HostSocket {
  #ws: WebSocket | null = null;
  #state: SocketState = "closed";
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #ping: ReturnType<typeof setInterval> | null = null;
  #stopped = false;
  #authed = false;
  #queue: ClientMessage[] = [];
  readonly #attachments = new Map<string, Attachment>();

  constructor(
    private readonly baseUrl: string,
    private readonly token: () => string | null,
    private readonly handlers: SocketHandlers,
  ) {}

  get state(): SocketState {
    return this.#state;
  }

  start(): void {
    this.#stopped = false;
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#ping) clearInterval(this.#ping);
    this.#ws?.close(1000, "bye");
    this.#ws = null;
    this.#set("closed", "");
  }

  /** Connect now instead of waiting for the back-off (the user pressed Retry, or came online). */
  retryNow(): void {
    if (this.#state === "open" || this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#attempt = 0;
    this.#connect();
  }

  /** Attach to a session's terminal; the returned function detaches. */
  attach(
    session: string,
    size: { cols: number; rows: number },
    sink: (a: StreamAction) => void,
    onError: (message: string) => void,
  ): () => void {
    const a: Attachment = { stream: new TerminalStream(), sink, onError, ...size };
    this.#attachments.set(session, a);
    this.#sendAttach(session, a);
    return () => {
      if (this.#attachments.get(session) === a) {
        this.#attachments.delete(session);
        this.#send({ type: "detach", session }, false);
      }
    };
  }

  /** Types into a session; false when the socket is down (nothing is queued). */
  input(session: string, bytes: Uint8Array): boolean {
    if (!this.#authed) return false;
    return this.#send({ type: "input", session, data: encodeInput(bytes) }, false);
  }

  resize(session: string, cols: number, rows: number): void {
    const a = this.#attachments.get(session);
    if (a) {
      a.cols = cols;
      a.rows = rows;
    }
    if (this.#authed) this.#send({ type: "resize", session, cols, rows }, false);
  }

  /** Bytes lost across reconnects that the host replaced with a snapshot (for the session). */
  gaps(session: string): number {
    return this.#attachments.get(session)?.stream.gaps ?? 0;
  }

  #sendAttach(session: string, a: Attachment): void {
    if (!this.#authed) return; // sent on (re)connect
    this.#send(
      { type: "attach", session, offset: a.stream.resumeFrom(), cols: a.cols, rows: a.rows },
      false,
    );
  }

  #set(state: SocketState, detail: string): void {
    this.#state = state;
    this.handlers.onState(state, detail);
  }

  #wsUrl(): string {
    const u = new URL(this.baseUrl);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    u.pathname = "/api/v1/ws";
    return u.toString();
  }

  #connect(): void {
    if (this.#stopped) return;
    const token = this.token();
    if (!token) {
      this.#set("auth_failed", "This device has no token for the host. Pair it again.");
      return;
    }
    this.#set(
      "connecting",
      this.#attempt > 0 ? `Reconnecting (attempt ${this.#attempt + 1})` : "Connecting",
    );
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.#wsUrl());
    } catch {
      this.#scheduleReconnect(
        "The host's address is not valid. Remove the host and pair it again.",
      );
      return;
    }
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    this.#authed = false;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "auth", token } satisfies ClientMessage));
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === "string") this.#onText(ev.data);
      else this.#onBinary(ev.data as ArrayBuffer);
    };
    ws.onclose = (ev) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#authed = false;
      if (this.#ping) clearInterval(this.#ping);
      if (this.#stopped || this.#state === "auth_failed") return;
      // 4401/4403: the host refused the token (revoked or expired): do not hammer it.
      if (ev.code === 4401 || ev.code === 4403) {
        this.#set(
          "auth_failed",
          ev.reason || "The host refused this device's token. Pair it again.",
        );
        this.handlers.onAuthError("revoked", ev.reason || "This device was revoked on the host.");
        return;
      }
      this.#scheduleReconnect("The connection to the host was lost; reconnecting.");
    };
  }

  #scheduleReconnect(detail: string): void {
    this.#set("closed", detail);
    const delay = Math.min(10_000, 300 * 2 ** this.#attempt) * (0.8 + Math.random() * 0.4);
    this.#attempt += 1;
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  #onText(data: string): void {
    let msg: ServerMessage;
    try {
      msg = JSON.parse(data) as ServerMessage;
    } catch {
      return;
    }
    switch (msg.type) {
      case "auth_ok":
        this.#authed = true;
        this.#attempt = 0;
        this.#set("open", "");
        this.#send({ type: "subscribe", events: EVENT_TYPES }, false);
        for (const [id, a] of this.#attachments) this.#sendAttach(id, a);
        for (const m of this.#queue.splice(0)) this.#send(m, false);
        this.#ping = setInterval(() => this.#send({ type: "ping" }, false), 20_000);
        return;
      case "error": {
        const p = msg.payload;
        if (
          !this.#authed &&
          (p.code === "unauthorized" || p.code === "revoked" || p.code === "token_revoked")
        ) {
          this.#set("auth_failed", p.message);
          this.handlers.onAuthError(p.code, p.message);
          this.#ws?.close();
          return;
        }
        if (p.session) this.#attachments.get(p.session)?.onError(p.message);
        return;
      }
      case "pong":
      case "detached":
        if (msg.type === "detached")
          this.#attachments
            .get(msg.payload.session)
            ?.onError(msg.payload.reason ?? "The host ended this terminal stream.");
        return;
      default:
        this.handlers.onEvent(msg);
    }
  }

  #onBinary(buf: ArrayBuffer): void {
    const f = decodeTerminalFrame(buf);
    if (!f) return;
    const a = this.#attachments.get(f.session);
    if (!a) return;
    a.sink(
      f.kind === "output"
        ? a.stream.output(f.offset, f.bytes)
        : a.stream.snapshot(f.offset, f.bytes, f.gap),
    );
  }

  #send(m: ClientMessage, queue: boolean): boolean {
    if (this.#ws && this.#ws.readyState === WebSocket.OPEN && (this.#authed || m.type === "auth")) {
      this.#ws.send(JSON.stringify(m));
      return true;
    }
    if (queue && this.#queue.length < MAX_QUEUE) this.#queue.push(m);
    return false;
  }
}
