/**
 * The REST half of the backend: one method per thing the UI asks of a host. Every route string
 * of the UI is in this file.
 */
import { ApiError, fromResponse, unreachable } from "./errors";
import type {
  AuditEntry,
  DeviceView,
  LogEntry,
  MetricPoint,
  PermissionRequest,
  ProcessInfo,
  Role,
  SessionView,
  Signal,
  SupervisorStatus,
  TokenGrant,
  TranscriptItem,
} from "./types";

export type ControlAction = "interrupt" | "suspend" | "resume" | "stop" | "kill" | "restart";
export type Decision =
  { decision: "allow" } | { decision: "allow_always" } | { decision: "deny"; message?: string };

export interface Me {
  device_id: string;
  role: Role;
  name?: string;
}

/** The signal each control sends (restart has its own route). */
const SIGNAL: Record<Exclude<ControlAction, "restart">, Signal> = {
  interrupt: "INT",
  suspend: "STOP",
  resume: "CONT",
  stop: "TERM",
  kill: "KILL",
};

/** Accepts `[...]` or `{key: [...]}` (the endpoint's list envelope). */
function list<T>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) return body as T[];
  const v = (body as Record<string, unknown> | null)?.[key];
  return Array.isArray(v) ? (v as T[]) : [];
}

export class HttpApi {
  constructor(
    readonly baseUrl: string,
    private readonly token: () => string | null,
    /** Called once when the host answers 401: returns true when a fresh token was obtained. */
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
        if (res.ok)
          throw new ApiError(
            "server",
            "The host answered with something that is not JSON. Is this address a Paddock host?",
          );
      }
    }
    if (res.status === 401 && !retried && this.token() && (await this.reauth())) {
      return this.request(method, path, body, true);
    }
    if (!res.ok) throw fromResponse(res.status, json);
    return json as T;
  }

  /** Proves a pairing secret (from the QR code) or short code; no token needed. */
  pair(proof: string, deviceName: string): Promise<TokenGrant> {
    return this.request("POST", "/pair", { proof, device_name: deviceName });
  }
  refresh(refreshToken: string): Promise<TokenGrant> {
    return this.request("POST", "/auth/refresh", { refresh_token: refreshToken });
  }
  me(): Promise<Me> {
    return this.request("GET", "/me");
  }
  async sessions(): Promise<SessionView[]> {
    return list(await this.request("GET", "/sessions"), "sessions");
  }
  session(id: string): Promise<SessionView> {
    return this.request("GET", `/sessions/${encodeURIComponent(id)}`);
  }
  async transcript(id: string): Promise<TranscriptItem[]> {
    return list(
      await this.request("GET", `/sessions/${encodeURIComponent(id)}/transcript`),
      "items",
    );
  }
  message(id: string, text: string): Promise<unknown> {
    return this.request("POST", `/sessions/${encodeURIComponent(id)}/message`, { text });
  }
  control(id: string, action: ControlAction): Promise<unknown> {
    const path = `/sessions/${encodeURIComponent(id)}`;
    if (action === "restart") return this.request("POST", `${path}/restart`);
    return this.request("POST", `${path}/signal`, { signal: SIGNAL[action] });
  }
  async permissions(): Promise<PermissionRequest[]> {
    return list(await this.request("GET", "/permissions"), "permissions");
  }
  decide(id: string, d: Decision): Promise<unknown> {
    return this.request("POST", `/permissions/${encodeURIComponent(id)}/decision`, d);
  }
  async processes(): Promise<ProcessInfo[]> {
    return list(await this.request("GET", "/processes"), "processes");
  }
  status(): Promise<SupervisorStatus> {
    return this.request("GET", "/system/status");
  }
  async metrics(params: { session?: string; since?: number }): Promise<MetricPoint[]> {
    const q = new URLSearchParams();
    if (params.session) q.set("session", params.session);
    if (params.since) q.set("since", String(params.since));
    return list(await this.request("GET", `/system/metrics?${q}`), "points");
  }
  async logs(params: { level?: string; q?: string; limit?: number }): Promise<LogEntry[]> {
    const q = new URLSearchParams();
    if (params.level) q.set("level", params.level);
    if (params.q) q.set("q", params.q);
    q.set("limit", String(params.limit ?? 500));
    return list(await this.request("GET", `/system/logs?${q}`), "entries");
  }
  async devices(): Promise<DeviceView[]> {
    return list(await this.request("GET", "/devices"), "devices");
  }
  revokeDevice(id: string): Promise<unknown> {
    return this.request("DELETE", `/devices/${encodeURIComponent(id)}`);
  }
  async audit(): Promise<AuditEntry[]> {
    return list(await this.request("GET", "/audit"), "entries");
  }
}
