/**
 * The REST half of the backend: one method per thing the UI asks of a host. Every REST route
 * the UI uses is in this file.
 */
import { ApiError, fromResponse, unreachable } from "./errors";
import type {
  AuditEntry,
  DeviceView,
  Me,
  PairRequest,
  PermissionRequest,
  SessionView,
  Signal,
  SupervisorStatus,
  SystemMetrics,
  TokenGrant,
  TranscriptItem,
} from "./types";

export type ControlAction = "interrupt" | "suspend" | "resume" | "stop" | "kill" | "restart";
export type Decision =
  { decision: "allow" } | { decision: "allow_always" } | { decision: "deny"; message?: string };

/** The signal each control sends (restart has its own route). */
const SIGNAL: Record<Exclude<ControlAction, "restart">, Signal> = {
  interrupt: "INT",
  suspend: "STOP",
  resume: "CONT",
  stop: "TERM",
  kill: "KILL",
};

const sid = (id: string) => `/sessions/${encodeURIComponent(id)}`;

export class HttpApi {
  constructor(
    readonly baseUrl: string,
    private readonly token: () => string | null,
    /** Called once when the host answers 401: true when a fresh token was obtained. */
    private readonly reauth: () => Promise<boolean> = async () => false,
  ) {}

  async request<T>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    const tok = this.token();
    if (tok) headers.Authorization = `Bearer ${tok}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(this.baseUrl + "/api/v1" + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch {
      throw unreachable();
    }
    const text = await res.text();
    let json: unknown = null;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        if (res.ok) {
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
    if (!res.ok) throw fromResponse(res.status, json);
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
  session(id: string): Promise<SessionView> {
    return this.request("GET", sid(id));
  }
  /** Types `text` into the agent's terminal and presses Enter. */
  message(id: string, text: string): Promise<unknown> {
    return this.request("POST", `${sid(id)}/input`, { data: text, enter: true });
  }
  /**
   * Interrupt, suspend, resume, stop, kill (signals) and restart. `agent` picks how to
   * interrupt: Claude Code treats Esc as "stop what you are doing" and INT as "quit".
   */
  control(id: string, action: ControlAction, agent?: string | null): Promise<unknown> {
    if (action === "interrupt" && agent === "claude") {
      return this.request("POST", `${sid(id)}/input`, { data: "\x1b", enter: false });
    }
    if (action === "restart") return this.request("POST", `${sid(id)}/restart`);
    return this.request("POST", `${sid(id)}/signal`, { signal: SIGNAL[action] });
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
  devices(): Promise<DeviceView[]> {
    return this.request("GET", "/devices");
  }
  revokeDevice(id: string): Promise<DeviceView> {
    return this.request("DELETE", `/devices/${encodeURIComponent(id)}`);
  }
  audit(): Promise<AuditEntry[]> {
    return this.request("GET", "/audit");
  }

  // Issue 4 (agents) routes: a host without them answers 404 and the views say so.
  transcript(id: string): Promise<TranscriptItem[]> {
    return this.request("GET", `${sid(id)}/transcript`);
  }
  permissions(): Promise<PermissionRequest[]> {
    return this.request("GET", "/permissions");
  }
  decide(id: string, d: Decision): Promise<unknown> {
    return this.request("POST", `/permissions/${encodeURIComponent(id)}/decision`, d);
  }
}
