import { describe, expect, it } from "vitest";
import { folderName, sessionTitle, snippetParts, tokens } from "../src/lib/model/history";

describe("a search hit's snippet", () => {
  it("splits into plain text and the matched terms", () => {
    expect(snippetParts("migrate the \u0002billing\u0003 tables to \u0002postgres\u0003")).toEqual([
      { text: "migrate the ", match: false },
      { text: "billing", match: true },
      { text: " tables to ", match: false },
      { text: "postgres", match: true },
    ]);
  });

  it("keeps the text's own brackets and markup as text", () => {
    const parts = snippetParts("see [v2] <img src=x onerror=alert(1)> \u0002schema\u0003");
    expect(parts[0]).toEqual({ text: "see [v2] <img src=x onerror=alert(1)> ", match: false });
    expect(parts[1]).toEqual({ text: "schema", match: true });
  });

  it("never loses text to a stray or unclosed mark", () => {
    expect(snippetParts("a\u0003b \u0002c")).toEqual([
      { text: "ab ", match: false },
      { text: "c", match: true },
    ]);
    expect(snippetParts("")).toEqual([]);
    expect(snippetParts("\u0002x\u0003\u0002y\u0003")).toEqual([{ text: "xy", match: true }]);
  });
});

describe("a past session", () => {
  const base = {
    title: null,
    first_prompt: null,
    session_id: null,
    path: "/h/.claude/projects/p/abc.jsonl",
  };

  it("is called by its title, else its first prompt on one line, else its file", () => {
    expect(sessionTitle({ ...base, title: "Billing migration", first_prompt: "x" })).toBe(
      "Billing migration",
    );
    expect(sessionTitle({ ...base, first_prompt: "fix\n  the   bug" })).toBe("fix the bug");
    expect(sessionTitle({ ...base, session_id: "b2" })).toBe("b2");
    expect(sessionTitle(base)).toBe("abc.jsonl");
  });

  it("shows tokens and folders briefly", () => {
    expect(tokens(950)).toBe("950");
    expect(tokens(1234)).toBe("1.2k");
    expect(tokens(45_600)).toBe("46k");
    expect(tokens(4_500_000)).toBe("4.5M");
    expect(folderName("/home/dev/api")).toBe("api");
    expect(folderName(null)).toBe("");
  });
});
