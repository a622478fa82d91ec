/**
 * The REST half of the backend: one method per thing the UI asks of a host. Every REST route
 * the UI uses is in this file.
 */
import { ApiError, fromResponse, unreachable } from "./errors";
import { transport, Unreachable, type Reply } from "./transport";
import type {
  ActResponse,
  AuditEntry,
  DeliveryView,
  NotificationLog,
  NotifySettings,
  NotifySettingsView,
  WebPushInfo,
  WebPushSubscription,
  Control,
  ConversationPage,
  DecideRequest,
  Decision,
  DeviceView,
  DoctorReport,
  HistoryPage,
  LogRecord,
  Me,
  MessageReceipt,
  MessageRequest,
  PairRequest,
  PermissionRequest,
  ProcessView,
  SessionView,
  Signal,
  StartSessionRequest,
  SupervisorStatus,
  SystemMetrics,
  TokenGrant,
  SessionInsight,
  ThinkingView,
  TranscriptPage,
  Turn,
} from "./types";

export type ControlAction = "interrupt" | "pause" | "resume" | "stop" | "kill" | "restart";

/** Stop and kill are signals; restart has its own route; the rest are agent controls. */
const SIGNAL: Partial<Record<ControlAction, Signal>> = { stop: "TERM", kill: "KILL" };

const sid = (id: string) => `/sessions/${encodeURIComponent(id)}`;

/** What to read of the host's stored activity log (`GET /system/logs`). */
export interface LogsQuery {
  /** At most this many entries (the host allows 1 to 1000; default 200). */
  limit?: number;
  /** Only entries older than this id: the smallest id shown, to page back. */
  before?: number;
  /** Only entries at this level or above. */
  level?: "debug" | "info" | "warn" | "error";
  /** Only this session's entries. */
  session?: string;
}

/** What to read of the agents' history (`GET /history`). */
export interface HistoryQuery {
  /** Words to search for (all must appear; "a phrase", word*, a OR b); none lists sessions. */
  q?: string;
  /** At most this many (the host allows 1 to 500; default 100). */
  limit?: number;
  /** Skip this many: the previous page's `next_offset`. */
  offset?: number;
  /** Only this agent's sessions (`claude`, `codex`); lists only. */
  agent?: string;
  /** Only sessions in this folder; lists only. */
  cwd?: string;
}

export class HttpApi {
  constructor(
    readonly baseUrl: string,
    private readonly token: () => string | null,
    /** Called once when the host answers 401: true when a fresh token was obtained. */
    private readonly reauth: () => Promise<boolean> = async () => false,
    /** SHA-256 of the host's certificate, pinned by the app's transport (browsers ignore it). */
    readonly fingerprint: string | null = null,
  ) {}

  async request<T>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    const tok = this.token();
    if (tok) headers.Authorization = `Bearer ${tok}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res: Reply;
    try {
      res = await transport().request(
        this.baseUrl,
        this.fingerprint,
        method,
        path,
        headers,
        body === undefined ? undefined : JSON.stringify(body),
      );
    } catch (e) {
      if (e instanceof Unreachable && e.code === "certificate_changed")
        throw new ApiError("certificate_changed", e.message);
      throw unreachable();
    }
    const text = res.text;
    const ok = res.status >= 200 && res.status < 300;
    let json: unknown = null;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        if (ok) {
          throw new ApiError(
            "internal",
            "The host answered with something that is not JSON. Check that this address is a Paddock host.",
          );
        }
      }
    }
    if (res.status === 401 && !retried && tok && (await this.reauth())) {
      return this.request(method, path, body, true);
    }
    if (!ok) throw fromResponse(res.status, json);
    return json as T;
  }

  /** Proves a pairing secret (from the QR code) or a short code; needs no token. */
  pair(secret: string, deviceName: string): Promise<TokenGrant> {
    return this.request("POST", "/pair", { secret, device_name: deviceName } satisfies PairRequest);
  }
  refresh(refreshToken: string): Promise<TokenGrant> {
    return this.request("POST", "/auth/refresh", { refresh_token: refreshToken });
  }
  me(): Promise<Me> {
    return this.request("GET", "/me");
  }
  sessions(): Promise<SessionView[]> {
    return this.request("GET", "/sessions");
  }
  /**
   * Starts a session on the host (operators and admins); the host answers 201 with it once its
   * supervisor lists it, or 400 with a sentence saying what to fix.
   */
  startSession(req: StartSessionRequest): Promise<SessionView> {
    return this.request("POST", "/sessions", req);
  }
  session(id: string): Promise<SessionView> {
    return this.request("GET", sid(id));
  }
  /** Sends a message to the agent: typed into its prompt and submitted; says whether it took it. */
  message(id: string, text: string): Promise<MessageReceipt> {
    const body: MessageRequest = { text, timeout_ms: null, typed: false };
    return this.request("POST", `${sid(id)}/message`, body);
  }
  /**
   * Interrupt (what the agent treats as interrupt, e.g. Esc for Claude Code), pause and resume
   * go through the agent's control; stop and kill are signals; restart has its own route.
   */
  control(id: string, action: ControlAction): Promise<unknown> {
    const signal = SIGNAL[action];
    if (signal) return this.request("POST", `${sid(id)}/signal`, { signal });
    if (action === "restart") return this.request("POST", `${sid(id)}/restart`);
    const body: Control =
      action === "interrupt"
        ? { action: "interrupt", message: null }
        : { action: action === "pause" ? "pause" : "resume" };
    return this.request("POST", `${sid(id)}/control`, body);
  }
  remove(id: string): Promise<unknown> {
    return this.request("DELETE", sid(id));
  }
  status(): Promise<SupervisorStatus> {
    return this.request("GET", "/system/status");
  }
  metrics(): Promise<SystemMetrics> {
    return this.request("GET", "/system/metrics");
  }
  /** `paddock doctor`'s checks as the host's supervisor sees them (admin). */
  doctor(): Promise<DoctorReport> {
    return this.request("GET", "/system/doctor");
  }
  devices(): Promise<DeviceView[]> {
    return this.request("GET", "/devices");
  }
  revokeDevice(id: string): Promise<DeviceView> {
    return this.request("DELETE", `/devices/${encodeURIComponent(id)}`);
  }
  /** The host's stored activity log, newest first. */
  logs(q: LogsQuery = {}): Promise<LogRecord[]> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q))
      if (v !== undefined && v !== "") params.set(k, String(v));
    const qs = params.toString();
    return this.request("GET", `/system/logs${qs ? `?${qs}` : ""}`);
  }
  /** Past agent sessions (newest first), or the hits of a search (best first). */
  history(q: HistoryQuery = {}): Promise<HistoryPage> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q))
      if (v !== undefined && v !== "") params.set(k, String(v));
    const qs = params.toString();
    return this.request("GET", `/history${qs ? `?${qs}` : ""}`);
  }
  audit(): Promise<AuditEntry[]> {
    return this.request("GET", "/audit");
  }

  /** Pending permission requests (`all` includes decided ones). */
  permissions(): Promise<PermissionRequest[]> {
    return this.request("GET", "/permissions");
  }
  /** Answers a permission request; the host answers with it, decided (or says who was first). */
  decide(id: string, decision: Decision): Promise<PermissionRequest> {
    return this.request("POST", `/permissions/${encodeURIComponent(id)}/decide`, {
      decision,
    } satisfies DecideRequest);
  }

  /** What the session's transcript says: task, actions, files, progress, tokens, cost. */
  insight(id: string): Promise<SessionInsight> {
    return this.request("GET", `${sid(id)}/insight`);
  }
  thinking(id: string): Promise<ThinkingView> {
    return this.request("GET", `${sid(id)}/thinking`);
  }
  /**
   * The raw lines of the transcript the host follows for this session: the last `limit`
   * (default 200, at most 1000), or with `after` (a previous page's `next`) the whole lines
   * written since. 404 with the host's message when it follows no transcript for it.
   */
  transcript(id: string, q: { after?: number; limit?: number } = {}): Promise<TranscriptPage> {
    const params = new URLSearchParams();
    if (q.after !== undefined) params.set("after", String(q.after));
    if (q.limit !== undefined) params.set("limit", String(q.limit));
    const qs = params.toString();
    return this.request("GET", `${sid(id)}/transcript${qs ? `?${qs}` : ""}`);
  }

  /**
   * A page of the session's conversation: the newest `limit` turns (default 30, at most 200)
   * before turn `before` (a page's `older`), oldest first, long outputs cut.
   */
  conversation(id: string, q: { before?: number; limit?: number } = {}): Promise<ConversationPage> {
    const params = new URLSearchParams();
    if (q.before !== undefined) params.set("before", String(q.before));
    if (q.limit !== undefined) params.set("limit", String(q.limit));
    const qs = params.toString();
    return this.request("GET", `${sid(id)}/conversation${qs ? `?${qs}` : ""}`);
  }
  /** One turn of the session's conversation, whole (outputs not cut). */
  turn(id: string, index: number): Promise<Turn> {
    return this.request("GET", `${sid(id)}/conversation/turns/${index}`);
  }

  /** The notifications made lately (newest first) with every channel's attempts. */
  notifications(): Promise<NotificationLog> {
    return this.request("GET", "/notifications");
  }
  /** The notification settings in force, the paired devices' routes and every channel's state. */
  notifySettings(): Promise<NotifySettingsView> {
    return this.request("GET", "/notifications/settings");
  }
  /** Changes them (admins); the host keeps them in its config.toml and uses them at once. */
  setNotifySettings(settings: NotifySettings): Promise<NotifySettingsView> {
    return this.request("PUT", "/notifications/settings", settings);
  }
  /** Sends a test notification through one channel; the host says whether it arrived. */
  testChannel(channel: string): Promise<DeliveryView> {
    return this.request("POST", `/notifications/test/${encodeURIComponent(channel)}`);
  }
  /** Whether the host does Web Push, and its VAPID key. */
  webPush(): Promise<WebPushInfo> {
    return this.request("GET", "/notifications/web-push");
  }
  /** Registers this browser's push subscription for this device. */
  subscribePush(sub: WebPushSubscription): Promise<WebPushSubscription> {
    return this.request("POST", "/notifications/web-push/subscriptions", sub);
  }
  /** Redeems a notification's single-use action token (Approve / Deny). */
  act(token: string, message: string | null = null): Promise<ActResponse> {
    return this.request("POST", "/notifications/act", { token, message });
  }

  /**
   * Every session's process tree as the host last sampled it (each second): sessions oldest
   * first, each tree root first with parents before children; one session's with `session`.
   */
  processes(session?: string): Promise<ProcessView[]> {
    return this.request(
      "GET",
      `/processes${session ? `?session=${encodeURIComponent(session)}` : ""}`,
    );
  }
}
