import { describe, expect, it } from "vitest";
import { pendingNote } from "../src/lib/model/health";

describe("a component's pending writes in the System view", () => {
  it("are said while the database is degraded and holds records", () => {
    expect(
      pendingNote({ name: "database", status: "degraded", message: "full", pending_writes: 12 }),
    ).toBe("12 records not written yet, kept in memory");
    expect(
      pendingNote({ name: "database", status: "unhealthy", message: "x", pending_writes: 1 }),
    ).toBe("1 record not written yet, kept in memory");
  });

  it("are not said when healthy, when none wait, or for other components", () => {
    expect(
      pendingNote({ name: "database", status: "healthy", message: "ok", pending_writes: 3 }),
    ).toBeNull();
    expect(
      pendingNote({ name: "database", status: "degraded", message: "x", pending_writes: 0 }),
    ).toBeNull();
    expect(pendingNote({ name: "tmux", status: "degraded", message: "not installed" })).toBeNull();
  });
});
