import { describe, expect, it } from "vitest";
import { KEYS, withCtrl } from "../src/lib/terminal/keys";

describe("key bar", () => {
  it("Ctrl turns the next letter into its control character", () => {
    expect(withCtrl("c")).toBe("\x03");
    expect(withCtrl("C")).toBe("\x03");
    expect(withCtrl("d")).toBe("\x04");
    expect(withCtrl("[")).toBe("\x1b");
    expect(withCtrl("ab")).toBe("ab");
    expect(withCtrl("1")).toBe("1");
  });
  it("sends the bytes a terminal sends for each key", () => {
    expect(KEYS["Ctrl-C"]).toBe("\x03");
    expect(KEYS.Up).toBe("\x1b[A");
    expect(KEYS.Enter).toBe("\r");
  });
});
