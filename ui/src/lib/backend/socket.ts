/**
 * One reconnecting WSS connection per host (`/api/v1/ws`). It authenticates with its first
 * message (the token never goes in a URL), subscribes to events, keeps terminal attachments
 * across reconnects (each resumes from the offset after the last byte it showed, so nothing is
 * lost or doubled), and backs off while the host is away. Nothing is queued while the socket
 * is down: attachments are re-sent on reconnect, and typing is refused, not stored for later.
 */
import { PresenceReporter, pageVisible, watchPage } from "./presence";
import { TerminalStream, type StreamAction } from "./terminal-stream";
import { OPEN, transport, type SocketLike } from "./transport";
import {
  decodeTerminalFrame,
  type ClientMessage,
  type Event,
  type Permission,
  type Role,
  type ServerMessage,
  type SessionView,
  type Size,
} from "./types";

export type SocketState = "connecting" | "open" | "closed" | "refused";

export interface SocketHandlers {
  onState(state: SocketState, detail: string): void;
  onReady(role: Role, permissions: Permission[]): void;
  onResync(sessions: SessionView[]): void;
  onEvent(e: Event): void;
  /** The host refused the token; resolve true when a fresh one was obtained (then reconnect). */
  onAuthRefused(message: string): Promise<boolean>;
}

export interface TerminalSink {
  data(a: StreamAction): void;
  /** The host says whether this socket may type into the session. */
  attached(info: { writable: boolean; size: Size; gap: boolean }): void;
  exited(code: number | null, signal: string | null): void;
  problem(message: string): void;
}

interface Attachment {
  stream: TerminalStream;
  sink: TerminalSink;
  size: Size;
  /** A snapshot that follows replaces bytes that were skipped. */
  gapPending: boolean;
}

export class HostSocket {
  #ws: SocketLike | null = null;
  #state: SocketState = "closed";
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #ping: ReturnType<typeof setInterval> | null = null;
  #stopped = true;
  #ready = false;
  readonly #attachments = new Map<string, Attachment>();
  readonly #presence = new PresenceReporter(
    (visible) => this.#ready && this.#send({ type: "presence", visible }),
  );
  readonly #onPage = () => this.#presence.update(pageVisible(), Date.now());
  #unwatchPage: (() => void) | null = null;

  constructor(
    private readonly baseUrl: string,
    private readonly token: () => string | null,
    private readonly handlers: SocketHandlers,
    /** SHA-256 of the host's certificate, pinned by the app's transport (browsers ignore it). */
    private readonly fingerprint: string | null = null,
  ) {}

  get state(): SocketState {
    return this.#state;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#unwatchPage = watchPage(this.#onPage);
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    this.#unwatchPage?.();
    this.#unwatchPage = null;
    if (this.#timer) clearTimeout(this.#timer);
    this.#teardown();
    this.#set("closed", "");
  }

  /** Connect now instead of waiting for the back-off (Retry pressed, or the device came online). */
  retryNow(): void {
    if (this.#stopped || this.#state === "open" || this.#state === "refused") return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#attempt = 0;
    this.#teardown();
    this.#connect();
  }

  /** Stream a session's terminal into `sink`; the returned function detaches. */
  attach(session: string, size: Size, sink: TerminalSink): () => void {
    const a: Attachment = { stream: new TerminalStream(), sink, size, gapPending: false };
    this.#attachments.set(session, a);
    if (this.#ready) this.#sendAttach(session, a);
    return () => {
      if (this.#attachments.get(session) !== a) return;
      this.#attachments.delete(session);
      if (this.#ready) this.#send({ type: "detach", session });
    };
  }

  /** Types into a session; false when the socket is down (nothing is queued). */
  input(session: string, data: string): boolean {
    if (!this.#ready) return false;
    return this.#send({ type: "input", session, data });
  }

  resize(session: string, size: Size): void {
    const a = this.#attachments.get(session);
    if (a) a.size = size;
    if (this.#ready) this.#send({ type: "resize", session, size });
  }

  /** Times the host had to replace missing bytes with a snapshot, for this attachment. */
  gaps(session: string): number {
    return this.#attachments.get(session)?.stream.gaps ?? 0;
  }

  #sendAttach(session: string, a: Attachment): void {
    this.#send({ type: "attach", session, offset: a.stream.resumeFrom(), size: a.size });
  }

  #set(state: SocketState, detail: string): void {
    this.#state = state;
    this.handlers.onState(state, detail);
  }

  #wsUrl(): string {
    const u = new URL(this.baseUrl);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    u.pathname = "/api/v1/ws";
    u.search = "";
    u.hash = "";
    return u.toString();
  }

  #teardown(): void {
    if (this.#ping) clearInterval(this.#ping);
    this.#ping = null;
    this.#ready = false;
    const ws = this.#ws;
    this.#ws = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.close(1000);
    }
  }

  #connect(): void {
    if (this.#stopped) return;
    const token = this.token();
    if (!token) {
      this.#set("refused", "This device has no token for the host. Pair it again.");
      return;
    }
    this.#set(
      "connecting",
      this.#attempt > 0 ? `Reconnecting (attempt ${this.#attempt + 1}).` : "Connecting.",
    );
    let ws: SocketLike;
    try {
      ws = transport().socket(this.#wsUrl(), this.fingerprint);
    } catch {
      this.#set("refused", "The host's address is not valid. Remove the host and pair it again.");
      return;
    }
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    this.#ready = false;
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token } satisfies ClientMessage));
    ws.onmessage = (ev) => {
      if (typeof ev.data === "string") this.#onText(ev.data);
      else this.#onBinary(ev.data as ArrayBuffer);
    };
    ws.onclose = (ev) => {
      if (this.#ws !== ws) return;
      if (ev.code === 4401) {
        // The host refused the token (expired, or the device was revoked).
        void this.#refused(
          ev.reason
            ? `The host closed the connection: ${ev.reason}.`
            : "The host refused this device's token.",
        );
        return;
      }
      this.#teardown();
      if (this.#stopped || this.#state === "refused") return;
      this.#scheduleReconnect("The connection to the host was lost; reconnecting.");
    };
  }

  #scheduleReconnect(detail: string): void {
    this.#set("closed", detail);
    const delay = Math.min(10_000, 250 * 2 ** this.#attempt) * (0.8 + Math.random() * 0.4);
    this.#attempt += 1;
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  async #refused(message: string): Promise<void> {
    this.#teardown();
    this.#set("refused", message);
    if (await this.handlers.onAuthRefused(message)) {
      if (this.#stopped) return;
      this.#attempt = 0;
      this.#connect();
    }
  }

  #onText(data: string): void {
    let msg: ServerMessage | Event;
    try {
      msg = JSON.parse(data) as ServerMessage | Event;
    } catch {
      return;
    }
    switch (msg.type) {
      case "ready":
        this.#ready = true;
        this.#attempt = 0;
        this.handlers.onReady(msg.role, msg.permissions);
        this.#set("open", "");
        this.#send({ type: "subscribe" });
        for (const [id, a] of this.#attachments) this.#sendAttach(id, a);
        this.#presence.reset();
        this.#onPage();
        this.#ping = setInterval(() => this.#send({ type: "ping", nonce: Date.now() }), 20_000);
        return;
      case "resync":
        this.handlers.onResync(msg.sessions);
        return;
      case "attached": {
        const a = this.#attachments.get(msg.session);
        if (!a) return;
        a.gapPending = msg.gap;
        a.sink.attached({ writable: msg.writable, size: msg.size, gap: msg.gap });
        return;
      }
      case "lagged": {
        const a = this.#attachments.get(msg.session);
        if (a) a.gapPending = true;
        return;
      }
      case "exited":
        this.#attachments.get(msg.session)?.sink.exited(msg.code, msg.signal);
        return;
      case "detached": {
        const a = this.#attachments.get(msg.session);
        if (a) {
          this.#attachments.delete(msg.session);
          a.sink.problem(`The host ended this terminal stream: ${msg.reason}`);
        }
        return;
      }
      case "resized":
      case "pong":
        return;
      case "error":
        if (!this.#ready && msg.code === "unauthorized") {
          void this.#refused(msg.message);
        } else if (msg.session) {
          this.#attachments.get(msg.session)?.sink.problem(msg.message);
        }
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
    if (f.kind === "output") {
      a.sink.data(a.stream.output(f.offset, f.data));
    } else {
      const gap = a.gapPending;
      a.gapPending = false;
      a.sink.data(a.stream.snapshot(f.offset, f.data, gap));
    }
  }

  #send(m: ClientMessage): boolean {
    const ws = this.#ws;
    if (!ws || ws.readyState !== OPEN) return false;
    ws.send(JSON.stringify(m));
    return true;
  }
}
