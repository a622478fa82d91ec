import { describe, expect, it } from "vitest";
import { TerminalStream, type StreamAction } from "../src/lib/backend/terminal-stream";

const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (a: StreamAction) => (a.kind === "none" ? "" : dec.decode(a.bytes));

describe("TerminalStream", () => {
  it("asks for a snapshot on first attach, then resumes after the last byte shown", () => {
    const s = new TerminalStream();
    expect(s.resumeFrom()).toBeNull();
    s.snapshot(100, enc.encode("screen"), false);
    expect(s.resumeFrom()).toBe(100);
    s.output(100, enc.encode("hello"));
    expect(s.resumeFrom()).toBe(105);
  });

  it("drops bytes replayed after a reconnect and keeps only the new tail of an overlap", () => {
    const s = new TerminalStream();
    s.snapshot(0, enc.encode(""), false);
    let shown = "";
    for (const [off, chunk] of [
      [0, "abc"],
      [3, "def"],
      [0, "abcdef"], // the whole thing again
      [4, "efgh"], // overlaps by two bytes
      [8, "ij"],
    ] as const) {
      shown += text(s.output(off, enc.encode(chunk)));
    }
    expect(shown).toBe("abcdefghij");
    expect(s.gaps).toBe(0);
  });

  it("a snapshot after lost bytes replaces the screen and counts the gap", () => {
    const s = new TerminalStream();
    s.snapshot(0, new Uint8Array(), false);
    s.output(0, enc.encode("abc"));
    const a = s.snapshot(5000, enc.encode("SCREEN"), true);
    expect(a.kind).toBe("reset");
    expect(s.gaps).toBe(1);
    expect(text(s.output(5000, enc.encode("x")))).toBe("x");
  });

  it("shows bytes after an unannounced hole but counts it as a gap", () => {
    const s = new TerminalStream();
    s.output(0, enc.encode("ab"));
    expect(text(s.output(10, enc.encode("z")))).toBe("z");
    expect(s.gaps).toBe(1);
    expect(s.resumeFrom()).toBe(11);
  });
});
