/**
 * What this device may do on a host. The host says it in the socket's `ready` message (its
 * permissions); before that the role it was paired with stands in, using the host's rule that
 * each role has every permission of the roles below it. Views ask `can(host, action)` and leave
 * out what is not allowed instead of showing a button that fails. The host checks every request
 * anyway; this only keeps the UI honest.
 */
import type { Permission, Role } from "../backend/types";

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
  | "view_history"
  | "manage_devices"
  | "configure_notifications"
  | "run_doctor";

const NEEDS: Record<Action, Permission> = {
  view_sessions: "sessions_list",
  view_terminal: "read",
  view_transcript: "read",
  view_system: "read",
  view_logs: "read",
  view_history: "read",
  type: "input",
  message: "input",
  control: "control",
  decide_permission: "control",
  manage_devices: "admin",
  configure_notifications: "admin",
  run_doctor: "admin",
};

const LEAST_ROLE: Record<Permission, number> = {
  sessions_list: 0,
  read: 1,
  input: 2,
  control: 2,
  admin: 3,
};
const RANK: Record<Role, number> = { guest: 0, viewer: 1, operator: 2, admin: 3 };

export function permissionsOf(role: Role): Permission[] {
  return (Object.keys(LEAST_ROLE) as Permission[]).filter((p) => RANK[role] >= LEAST_ROLE[p]);
}

export interface Grants {
  role: Role;
  /** From the host; null until it said. */
  permissions: Permission[] | null;
}

export function can(g: Grants | null | undefined, action: Action): boolean {
  if (!g) return false;
  return (g.permissions ?? permissionsOf(g.role)).includes(NEEDS[action]);
}
