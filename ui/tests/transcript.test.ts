import { describe, expect, it } from "vitest";
import { oneLine, summariseLine } from "../src/lib/model/transcript";

describe("a raw transcript line, folded", () => {
  it("Claude Code's user and assistant lines: kind and what they say", () => {
    expect(
      summariseLine({
        type: "user",
        message: { role: "user", content: "fix the bug" },
        timestamp: "2026-11-22T08:00:00Z",
      }),
    ).toEqual({
      kind: "user",
      role: null,
      summary: "fix the bug",
      timestamp: "2026-11-22T08:00:00Z",
    });
    const a = summariseLine({
      type: "assistant",
      message: {
        role: "assistant",
        content: [
          { type: "text", text: "I will look." },
          { type: "tool_use", name: "Bash", input: { command: "ls -la" } },
        ],
      },
    });
    expect(a.kind).toBe("assistant");
    expect(a.summary).toBe("I will look. · Bash(ls -la)");
  });

  it("a tool result and a summary line", () => {
    expect(
      summariseLine({
        type: "user",
        message: { role: "user", content: [{ type: "tool_result", content: "total 0\nfile" }] },
      }).summary,
    ).toBe("result: total 0 file");
    expect(summariseLine({ type: "summary", summary: "Fixing the login bug" }).summary).toBe(
      "Fixing the login bug",
    );
  });

  it("Codex's wrapped items name their payload type and role", () => {
    const s = summariseLine({
      timestamp: "2026-11-22T08:00:00Z",
      type: "response_item",
      payload: { type: "message", role: "user", content: [{ type: "input_text", text: "hi" }] },
    });
    expect(s).toMatchObject({ kind: "response_item · message", role: "user", summary: "hi" });
  });

  it("a line that is not JSON is text; an unknown object is shown compactly", () => {
    expect(summariseLine("not json {")).toMatchObject({ kind: "text", summary: "not json {" });
    expect(summariseLine({ a: 1 })).toMatchObject({ kind: "line", summary: '{"a":1}' });
  });

  it("summaries are one line, cut with an ellipsis", () => {
    expect(oneLine("a\n  b\tc")).toBe("a b c");
    const long = oneLine("x".repeat(500));
    expect(long.length).toBe(200);
    expect(long.endsWith("…")).toBe(true);
  });
});
