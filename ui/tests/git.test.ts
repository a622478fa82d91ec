import { describe, expect, it } from "vitest";
import { gitBranchLine, gitStatLine, gitTitle } from "../src/lib/model/git";
import type { GitStatus } from "../src/lib/backend/types";

const status = (over: Partial<GitStatus>): GitStatus => ({
  branch: "paddock/fix",
  commit: "abc1234",
  base: "main",
  ahead: 0,
  behind: 0,
  worktree: null,
  files: [],
  files_changed: 0,
  insertions: 0,
  deletions: 0,
  uncommitted: 0,
  ...over,
});

describe("a session's git state in its header", () => {
  it("shows the branch with how far it is from its base", () => {
    expect(gitBranchLine(status({ ahead: 2, behind: 1 }))).toBe("paddock/fix ↑2 ↓1");
    expect(gitBranchLine(status({ branch: null }))).toBe("abc1234");
  });
  it("sums the diff and counts what is not committed", () => {
    expect(gitStatLine(status({}))).toBe("no changes");
    expect(
      gitStatLine(status({ files_changed: 3, insertions: 42, deletions: 7, uncommitted: 1 })),
    ).toBe("3 files +42 −7, 1 uncommitted");
    expect(gitStatLine(status({ files_changed: 1, insertions: 3 }))).toBe("1 file +3 −0");
  });
  it("says what ahead and behind count against and where the worktree is", () => {
    expect(gitTitle(status({ ahead: 1, worktree: "/w/app/paddock-fix" }))).toBe(
      "1 ahead of and 0 behind main; in the worktree /w/app/paddock-fix",
    );
  });
});
