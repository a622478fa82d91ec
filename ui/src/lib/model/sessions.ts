/**
 * How the dashboard orders, labels and filters sessions: who needs the user comes first.
 */
import type { AgentState, AgentStatus, SessionInsight, SessionView } from "../backend/types";

/** What the dashboard shows: the agent states (`running`: its terminal is out of reach). */
export type ShownState =
  | "waiting_permission"
  | "waiting_input"
  | "errored"
  | "working"
  | "starting"
  | "running"
  | "idle"
  | "completed"
  | "exited";

const RANK: Record<ShownState, number> = {
  waiting_permission: 0,
  waiting_input: 1,
  errored: 2,
  working: 3,
  starting: 4,
  running: 5,
  idle: 6,
  completed: 7,
  exited: 8,
};

export const STATE_LABEL: Record<ShownState, string> = {
  waiting_permission: "Needs permission",
  waiting_input: "Waiting for you",
  errored: "Errored",
  working: "Working",
  starting: "Starting",
  running: "Running",
  idle: "Idle",
  completed: "Done",
  exited: "Exited",
};

export function shownState(state: AgentState | string): ShownState {
  return (state in RANK ? state : "working") as ShownState;
}

/** The states that want the user now. */
export function needsUser(s: SessionView): boolean {
  const st = shownState(s.state);
  return st === "waiting_permission" || st === "waiting_input";
}

export interface HostSession {
  hostId: string;
  hostName: string;
  session: SessionView;
  /** What its transcript says, when the host knows (agents only). */
  insight?: SessionInsight | null;
}

/** Milliseconds of the session's last activity: the transcript's, else its state change. */
function lastActive(hs: HostSession): number {
  return (
    hs.insight?.last_activity_ms ??
    (Date.parse(hs.session.since) || Date.parse(hs.session.started_at) || 0)
  );
}

/** Most urgent first; within a state, the most recently active first, then by name. */
export function compareSessions(a: HostSession, b: HostSession): number {
  const r = RANK[shownState(a.session.state)] - RANK[shownState(b.session.state)];
  if (r !== 0) return r;
  const ta = lastActive(a);
  const tb = lastActive(b);
  if (ta !== tb) return tb - ta;
  return a.session.name.localeCompare(b.session.name);
}

export interface SessionFilter {
  /** Free text: name, id, agent, cwd, branch, task, command, host. */
  text: string;
  /** Only these states; empty means all. */
  states: ShownState[];
}

export function matches(hs: HostSession, f: SessionFilter): boolean {
  const s = hs.session;
  if (f.states.length > 0 && !f.states.includes(shownState(s.state))) return false;
  const words = f.text.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const hay = [
    s.name,
    s.id,
    s.agent,
    s.cwd,
    hs.insight?.git_branch,
    hs.insight?.current_task,
    agentStatusLine(s.agent_status),
    hs.insight?.title,
    s.command,
    hs.hostName,
    STATE_LABEL[shownState(s.state)],
  ]
    .filter(Boolean)
    .join(" ")
    .toLowerCase();
  return words.every((w) => hay.includes(w));
}

export function sortAndFilter(all: HostSession[], f: SessionFilter): HostSession[] {
  return all.filter((hs) => matches(hs, f)).sort(compareSessions);
}

/** The document title: the count of sessions that wait for the user, first. */
export function titleFor(waiting: number): string {
  return waiting > 0 ? `(${waiting}) Paddock: ${waiting} waiting` : "Paddock";
}

/** The last thing the agent did, in a line. */
export function lastAction(hs: HostSession): string | null {
  const s = hs.session;
  if (s.state === "working" && s.tool) return `Running ${s.tool}`;
  const a = hs.insight?.recent_actions.at(-1);
  if (!a) return null;
  const what = a.input_summary ? `${a.tool}: ${a.input_summary}` : a.tool;
  return a.status === "failed" ? `${what} (failed)` : what;
}

/**
 * What the agent says it does (MCP `set_status`), on one line as `paddock ls` shows it:
 * "task · 3/7 (42%) · message"; null when it has said nothing.
 */
export function agentStatusLine(a: AgentStatus | null | undefined): string | null {
  if (!a) return null;
  const progress =
    a.percent === null
      ? null
      : a.done !== null && a.total !== null
        ? `${a.done}/${a.total} (${a.percent}%)`
        : `${a.percent}%`;
  const parts = [a.task, progress, a.message].filter((p): p is string => !!p);
  return parts.length > 0 ? parts.join(" · ") : null;
}
