import { describe, expect, it } from "vitest";
import {
  diffLines,
  emptyThread,
  mergeTurns,
  slashMatches,
  turnMatches,
  withPage,
} from "../src/lib/model/conversation";
import type { ConversationPage, Turn } from "../src/lib/backend/types";

const turn = (index: number, prompt: string, text = ""): Turn => ({
  index,
  prompt,
  items: text ? [{ kind: "text", text }] : [],
  started_at_ms: null,
  last_at_ms: null,
  tokens: [],
  cost_usd: 0,
  unpriced_models: [],
  question: null,
  cut: false,
});
const page = (turns: Turn[], older: number | null, total: number): ConversationPage => ({
  agent: "claude",
  turns,
  older,
  total,
});

describe("the conversation thread", () => {
  it("opens on the newest page and puts older pages before it", () => {
    let t = withPage(emptyThread(), page([turn(3, "c"), turn(4, "d")], 3, 5), false);
    expect(t.older).toBe(3);
    t = withPage(t, page([turn(1, "a"), turn(2, "b")], 1, 5), true);
    expect(t.turns.map((x) => x.index)).toEqual([1, 2, 3, 4]);
    expect(t.older).toBe(1);
    // The newest page read again (a reconnect) keeps what was shown.
    t = withPage(t, page([turn(4, "d", "more")], 4, 5), false);
    expect(t.turns.map((x) => x.index)).toEqual([1, 2, 3, 4]);
    expect(t.older).toBe(1);
  });
  it("replaces a changed turn and appends a new one from live updates", () => {
    let t = withPage(emptyThread(), page([turn(0, "a")], null, 1), false);
    t = mergeTurns(t, [turn(0, "a", "answer"), turn(1, "b")], 2);
    expect(t.turns.map((x) => [x.index, x.items.length])).toEqual([
      [0, 1],
      [1, 0],
    ]);
    expect(t.total).toBe(2);
  });
  it("finds a word in prompts, texts and tool outputs, whatever its case", () => {
    const t = turn(0, "fix the build", "Done");
    t.items.push({
      kind: "tool",
      id: "t",
      tool: "Bash",
      summary: "make",
      input: {},
      status: "failed",
      output: "error: Missing semicolon",
      output_chars: null,
      duration_ms: 3,
      diff: null,
      questions: [],
      subagent: null,
    });
    expect(turnMatches(t, "BUILD")).toBe(true);
    expect(turnMatches(t, "semicolon")).toBe(true);
    expect(turnMatches(t, "nowhere")).toBe(false);
    expect(turnMatches(t, "  ")).toBe(true);
  });
  it("colours a diff by line", () => {
    expect(diffLines("@@ -1,2 +1,2 @@\n # Notes\n-old\n+new\n").map((l) => l.kind)).toEqual([
      "hunk",
      "ctx",
      "del",
      "add",
    ]);
  });
  it("offers an agent's slash commands only while one word starting with / is typed", () => {
    expect(slashMatches("claude", "/co").map((c) => c.name)).toEqual([
      "/compact",
      "/cost",
      "/context",
    ]);
    expect(slashMatches("claude", "/compact now")).toEqual([]);
    expect(slashMatches("claude", "hello")).toEqual([]);
    expect(slashMatches("bash", "/")).toEqual([]);
  });
});
