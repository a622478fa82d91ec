/**
 * The wire types the UI uses, in one place.
 *
 * The endpoint's engineer exports them from Rust (ts-rs) into `src/lib/wire/`. Until that export
 * lands on this branch, this file declares the shapes the Rust code already has
 * (`paddock_proto::supervisor::SessionView`, `SupervisorStatus`, the bus `Event`) so the views
 * can be written; when `src/lib/wire/` appears, every declaration below is replaced by a
 * re-export from it, and nothing else in the UI changes. Nothing outside this file declares a
 * wire shape.
 */

export type SessionId = string;
export type DeviceId = string;
export type Backend = "holder" | "tmux" | "external";
export type HealthStatus = "healthy" | "degraded" | "unhealthy";
export type Role = "admin" | "operator" | "viewer" | "guest";
export type Permission = "sessions_list" | "read" | "input" | "control" | "admin";
export type Signal = "INT" | "TERM" | "KILL" | "HUP" | "STOP" | "CONT";
export interface Size {
  cols: number;
  rows: number;
}

/** The agent states of issue 4, plus the holder's own `running` / `exited`. */
export type AgentState =
  | "starting"
  | "working"
  | "waiting_permission"
  | "waiting_input"
  | "idle"
  | "completed"
  | "errored"
  | "exited"
  | "running";

export type ApiErrorCode =
  | "unauthorized"
  | "forbidden"
  | "origin_denied"
  | "not_found"
  | "bad_request"
  | "payload_too_large"
  | "rate_limited"
  | "pairing_failed"
  | "session_exited"
  | "session_running"
  | "unsupported"
  | "unavailable"
  | "internal";

export interface TokenGrant {
  device_id: DeviceId;
  role: Role;
  access_token: string;
  access_expires_at: string;
  refresh_token: string;
}

export interface DeviceView {
  id: DeviceId;
  name: string;
  role: Role;
  created_at: string;
  last_seen_at: string | null;
  revoked_at: string | null;
}

export interface AuditEntry {
  id: number;
  time: string;
  actor: string;
  device_id: DeviceId | null;
  action: string;
  target: string | null;
  result: string;
  detail: string | null;
}

/** `paddock_proto::web::ClientMessage`. */
export type ClientMessage =
  | { type: "auth"; token: string }
  | { type: "subscribe" }
  | { type: "unsubscribe" }
  | { type: "attach"; session: SessionId; offset: number | null; size: Size | null }
  | { type: "detach"; session: SessionId }
  | { type: "input"; session: SessionId; data: string }
  | { type: "resize"; session: SessionId; size: Size }
  | { type: "ping"; nonce: number | null };

/** `paddock_proto::web::ServerMessage`. */
export type ServerMessage =
  | { type: "ready"; protocol: number; device_id: DeviceId; role: Role; permissions: Permission[] }
  | { type: "resync"; sessions: SessionView[] }
  | {
      type: "attached";
      session: SessionId;
      offset: number;
      snapshot: boolean;
      gap: boolean;
      size: Size;
      writable: boolean;
    }
  | { type: "lagged"; session: SessionId; from: number; to: number }
  | { type: "resized"; session: SessionId; size: Size }
  | { type: "exited"; session: SessionId; code: number | null; signal: string | null }
  | { type: "detached"; session: SessionId; reason: string }
  | { type: "pong"; nonce: number | null }
  | { type: "error"; code: ApiErrorCode; message: string; session: SessionId | null };

export interface PermissionRequest {
  id: string;
  session: SessionId;
  tool: string;
  input: unknown;
  suggestions?: unknown[];
  created_at: string;
  expires_at?: string | null;
}

export interface SessionView {
  id: SessionId;
  name: string;
  command: string;
  cwd: string;
  pid: number;
  state: AgentState;
  exit_code: number | null;
  started_at: string;
  clients: number;
  backend: Backend;
  agent: string | null;
  cpu: number | null;
  rss: number | null;
  // Filled by the agents work (issue 4); absent until then.
  branch?: string | null;
  current_task?: string | null;
  current_tool?: string | null;
  last_action?: string | null;
  cost_usd?: number | null;
  tokens?: number | null;
  last_activity?: string | null;
  error?: string | null;
  permission?: PermissionRequest | null;
}

export interface ComponentHealth {
  name: string;
  status: HealthStatus;
  message: string;
}

export interface SupervisorStatus {
  pid: number;
  version: string;
  started_at: string;
  health: HealthStatus;
  components: ComponentHealth[];
  sessions: number;
  running: number;
  holders: number;
  tmux: number;
  external: number;
}

export interface ProcessInfo {
  pid: number;
  ppid?: number | null;
  session?: SessionId | null;
  command: string;
  args?: string[];
  cwd?: string | null;
  started_at?: string | null;
  cpu: number | null;
  rss: number | null;
  threads?: number | null;
  status?: string | null;
}

export interface MetricPoint {
  /** Unix seconds. */
  t: number;
  cpu: number;
  rss: number;
}

export interface LogEntry {
  time?: string;
  level: string;
  message: string;
  session?: SessionId | null;
}

export interface TranscriptItem {
  kind: "prompt" | "text" | "thinking" | "tool_call" | "tool_result" | "file_change" | "usage";
  time?: string;
  text?: string;
  tool?: string;
  input?: unknown;
  output?: string;
  is_error?: boolean;
  path?: string;
  diff?: string;
  tokens?: number;
  cost_usd?: number;
}

/** Events on the socket (the supervisor's bus, `{type, payload}`). */
/** `paddock_core::events::Event`: `{type, payload}`. */
export type Event =
  | { type: "session_update"; payload: { session: SessionView } }
  | { type: "session_removed"; payload: { id: SessionId } }
  | {
      type: "process_update";
      payload: { id: SessionId; cpu: number; rss: number; processes: number };
    }
  | { type: "system_alert"; payload: { component: ComponentHealth } }
  | { type: "log_entry"; payload: LogEntry }
  | { type: "thinking_update"; payload: { id: SessionId; text: string } };
