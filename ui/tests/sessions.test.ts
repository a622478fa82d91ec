import { describe, expect, it } from "vitest";
import {
  agentStatusLine,
  lastAction,
  shownState,
  sortAndFilter,
  STATE_LABEL,
  titleFor,
  type HostSession,
} from "../src/lib/model/sessions";
import type { SessionInsight, SessionView } from "../src/lib/backend/types";
import { can } from "../src/lib/model/roles";
import { age, bytes } from "../src/lib/model/format";

function s(
  name: string,
  state: SessionView["state"],
  extra: Partial<SessionView> = {},
  insight?: Partial<SessionInsight>,
): HostSession {
  return {
    insight: insight as SessionInsight | undefined,
    hostId: "h1",
    hostName: "laptop",
    session: {
      id: name,
      name,
      command: "claude",
      cwd: "/home/u/src/" + name,
      pid: 1,
      state,
      exit_code: null,
      started_at: "2026-11-22T05:00:00Z",
      clients: 0,
      backend: "holder",
      agent: "claude",
      cpu: null,
      rss: null,
      paused: false,
      agent_status: undefined,
      tool: null,
      permission: null,
      reason: null,
      program: null,
      sources: ["process"],
      since: "2026-11-22T05:00:00Z",
      ...extra,
    },
  };
}

describe("dashboard order", () => {
  it("puts permission prompts first, then input, errors, work, idle, exited", () => {
    const all = [
      s("e", "exited"),
      s("i", "idle"),
      s("w", "working"),
      s("r", "working"),
      s("x", "errored"),
      s("q", "waiting_input"),
      s("p", "waiting_permission"),
    ];
    const names = sortAndFilter(all, { text: "", states: [] }).map((h) => h.session.name);
    // Ties go by name.
    expect(names).toEqual(["p", "q", "x", "r", "w", "i", "e"]);
  });

  it("a session whose terminal is out of reach shows as running, after the busy ones", () => {
    const all = [s("i", "idle"), s("ext", "running"), s("w", "working")];
    const names = sortAndFilter(all, { text: "", states: [] }).map((h) => h.session.name);
    expect(names).toEqual(["w", "ext", "i"]);
    expect(shownState("running")).toBe("running");
    expect(STATE_LABEL[shownState("running")]).toBe("Running");
  });

  it("within one state, the most recently active comes first", () => {
    const all = [
      s("old", "working", {}, { last_activity_ms: Date.parse("2026-11-22T05:00:00Z") }),
      s("new", "working", {}, { last_activity_ms: Date.parse("2026-11-22T05:10:00Z") }),
    ];
    expect(sortAndFilter(all, { text: "", states: [] }).map((h) => h.session.name)).toEqual([
      "new",
      "old",
    ]);
  });

  it("search matches every word against name, cwd, branch, task and host", () => {
    const all = [
      s("api", "working", {}, { git_branch: "feat/login", current_task: "Fix the login form" }),
      s("web", "idle"),
    ];
    const f = (text: string) => sortAndFilter(all, { text, states: [] }).map((h) => h.session.name);
    expect(f("login")).toEqual(["api"]);
    expect(f("LAPTOP web")).toEqual(["web"]);
    expect(f("feat/login form")).toEqual(["api"]);
    expect(f("nothing")).toEqual([]);
  });

  it("filters by state", () => {
    const all = [s("a", "waiting_input"), s("b", "working"), s("c", "exited")];
    expect(
      sortAndFilter(all, { text: "", states: ["working"] }).map((h) => h.session.name),
    ).toEqual(["b"]);
  });

  it("the last action is the running tool, else the transcript's latest action", () => {
    expect(lastAction(s("a", "working", { tool: "Bash" }))).toBe("Running Bash");
    const act = {
      tool: "Edit",
      input_summary: "src/main.rs",
      status: "failed",
    } as SessionInsight["recent_actions"][number];
    expect(lastAction(s("b", "idle", {}, { recent_actions: [act] }))).toBe(
      "Edit: src/main.rs (failed)",
    );
    expect(lastAction(s("c", "idle"))).toBeNull();
  });

  it("the title counts the sessions waiting for the user", () => {
    expect(titleFor(0)).toBe("Paddock");
    expect(titleFor(3)).toMatch(/^\(3\)/);
  });
});

describe("roles", () => {
  const as = (role: "admin" | "operator" | "viewer" | "guest") => ({ role, permissions: null });
  it("a viewer reads but cannot type, control or answer; a guest sees only the list", () => {
    expect(can(as("viewer"), "view_terminal")).toBe(true);
    expect(can(as("viewer"), "type")).toBe(false);
    expect(can(as("viewer"), "decide_permission")).toBe(false);
    expect(can(as("guest"), "view_sessions")).toBe(true);
    expect(can(as("guest"), "view_terminal")).toBe(false);
    expect(can(as("operator"), "decide_permission")).toBe(true);
    expect(can(as("operator"), "manage_devices")).toBe(false);
    expect(can(as("admin"), "manage_devices")).toBe(true);
    expect(can(null, "view_sessions")).toBe(false);
  });
  it("what the host granted wins over the role's defaults", () => {
    expect(can({ role: "admin", permissions: ["sessions_list", "read"] }, "type")).toBe(false);
    expect(can({ role: "guest", permissions: ["sessions_list", "read"] }, "view_terminal")).toBe(
      true,
    );
  });
});

describe("format", () => {
  it("ages and sizes read naturally", () => {
    const now = Date.parse("2026-11-22T06:00:00Z");
    expect(age("2026-11-22T05:59:30Z", now)).toBe("30s");
    expect(age("2026-11-22T04:30:00Z", now)).toBe("1h 30m");
    expect(bytes(1536)).toBe("1.5 KB");
    expect(bytes(null)).toBe("–");
  });
});

describe("the agent's own status", () => {
  const at = "2026-11-22T05:00:00Z";
  it("reads as paddock ls shows it, and search finds it", () => {
    const a = { task: "Port the store", done: 3, total: 7, percent: 42, message: "tests", at };
    expect(agentStatusLine(a)).toBe("Port the store · 3/7 (42%) · tests");
    const pct = { task: null, done: null, total: null, percent: 40, message: null, at };
    expect(agentStatusLine(pct)).toBe("40%");
    expect(agentStatusLine(null)).toBeNull();
    const all = [s("a", "working", { agent_status: a }), s("b", "working")];
    const found = sortAndFilter(all, { text: "port store", states: [] });
    expect(found.map((h) => h.session.name)).toEqual(["a"]);
  });
});
