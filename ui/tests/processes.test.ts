import { describe, expect, it } from "vitest";
import { commandLine, processTree } from "../src/lib/model/processes";
import type { ProcessView } from "../src/lib/backend/types";

function p(
  pid: number,
  ppid: number | null,
  session: string,
  command: string[],
  extra: Partial<ProcessView> = {},
): ProcessView {
  return {
    pid,
    ppid,
    session,
    name: command[0] ?? "kworker",
    command,
    cwd: "/home/u",
    started_at: "2026-11-22T08:00:00Z",
    cpu: 0,
    rss: 1024,
    threads: 1,
    open_files: 3,
    status: "sleeping",
    tty: null,
    ...extra,
  };
}

const shape = (groups: ReturnType<typeof processTree>) =>
  groups.map((g) => [g.session, g.rows.map((r) => `${" ".repeat(r.depth)}${r.process.pid}`)]);

describe("process trees", () => {
  const list = [
    p(10, 1, "s1", ["sh", "-c", "sleep 600 & wait"]),
    p(11, 10, "s1", ["sleep", "600"], { cpu: 1 }),
    p(12, 10, "s1", ["node", "server.js"], { cpu: 30, rss: 9e8 }),
    p(13, 12, "s1", ["git", "status"]),
    p(20, 1, "s2", ["bash", "-i"]),
  ];

  it("puts each process under its parent, sessions and siblings in the host's order", () => {
    expect(shape(processTree(list))).toEqual([
      ["s1", ["10", " 11", " 12", "  13"]],
      ["s2", ["20"]],
    ]);
  });

  it("sorts siblings by a figure without breaking the tree", () => {
    expect(shape(processTree(list, { sort: "cpu" }))[0]).toEqual([
      "s1",
      ["10", " 12", "  13", " 11"],
    ]);
  });

  it("a filter keeps the matches with their ancestors, and drops sessions without one", () => {
    expect(shape(processTree(list, { filter: "GIT" }))).toEqual([["s1", ["10", " 12", "  13"]]]);
    expect(shape(processTree(list, { filter: "nothing-like-this" }))).toEqual([]);
  });

  it("a filter matching the session's name keeps its whole tree", () => {
    expect(shape(processTree(list, { filter: "build", labels: { s2: "build-shell" } }))).toEqual([
      ["s2", ["20"]],
    ]);
  });

  it("a process whose parent is elsewhere, or a ppid cycle, still shows as a root", () => {
    const odd = [p(5, 6, "s", ["a"]), p(6, 5, "s", ["b"]), p(7, 999, "s", ["c"])];
    const rows = processTree(odd)[0]!.rows;
    expect(rows.map((r) => r.process.pid).sort()).toEqual([5, 6, 7]);
    expect(rows.find((r) => r.process.pid === 7)!.depth).toBe(0);
  });

  it("shows command lines as a shell would, and the name when the host could not read one", () => {
    expect(commandLine(list[0]!)).toBe("sh -c 'sleep 600 & wait'");
    expect(commandLine(list[1]!)).toBe("sleep 600");
    expect(commandLine({ command: ["echo", "it's"], name: "echo" })).toBe(`echo 'it'\\''s'`);
    expect(commandLine({ command: [], name: "kthreadd" })).toBe("kthreadd");
  });
});
