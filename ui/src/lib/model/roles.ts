/**
 * What a device may do, from its role (issue 5: admin, operator, viewer, guest). The views ask
 * `can(role, action)` and leave out what is not allowed instead of showing a button that fails.
 * The server checks every request again; this only keeps the UI honest.
 */
import type { Role } from "../backend/types";

export type Action =
  | "view_sessions"
  | "view_terminal"
  | "view_transcript"
  | "type"
  | "control"
  | "message"
  | "decide_permission"
  | "view_system"
  | "view_logs"
  | "manage_devices";

const ALLOWED: Record<Role, ReadonlySet<Action>> = {
  admin: new Set<Action>([
    "view_sessions",
    "view_terminal",
    "view_transcript",
    "type",
    "control",
    "message",
    "decide_permission",
    "view_system",
    "view_logs",
    "manage_devices",
  ]),
  operator: new Set<Action>([
    "view_sessions",
    "view_terminal",
    "view_transcript",
    "type",
    "control",
    "message",
    "decide_permission",
    "view_system",
    "view_logs",
  ]),
  viewer: new Set<Action>([
    "view_sessions",
    "view_terminal",
    "view_transcript",
    "view_system",
    "view_logs",
  ]),
  guest: new Set<Action>(["view_sessions"]),
};

export function can(role: Role | null | undefined, action: Action): boolean {
  return role ? ALLOWED[role].has(action) : false;
}
