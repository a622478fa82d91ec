import { describe, expect, it } from "vitest";
import { mark, ordered, summary } from "../src/lib/model/doctor";
import type { DoctorReport } from "../src/lib/backend/types";

const report: DoctorReport = {
  status: "fail",
  checks: [
    { id: "tmux", title: "tmux", status: "ok", detail: "tmux 3.4" },
    { id: "env.nested", title: "Inherited", status: "warn", detail: "CLAUDECODE", fix: "unset" },
    { id: "disk", title: "Disk", status: "ok", detail: "9 GiB free" },
    { id: "supervisor", title: "Supervisor", status: "fail", detail: "down", fix: "paddock up" },
  ],
};

describe("the doctor's report in Settings", () => {
  it("puts broken checks first, then warnings, keeping the host's order within each", () => {
    expect(ordered(report).map((c) => c.id)).toEqual(["supervisor", "env.nested", "tmux", "disk"]);
  });

  it("summarises only the groups that are there", () => {
    expect(summary(report)).toBe("1 broken, 1 to look at, 2 fine");
    expect(summary({ status: "ok", checks: [report.checks[0]] })).toBe("1 fine");
  });

  it("marks each status as the CLI does", () => {
    expect([mark("ok"), mark("warn"), mark("fail")]).toEqual(["✓", "!", "✗"]);
  });
});
