import { describe, expect, it, vi } from "vitest";
import { href, parseRoute } from "../src/lib/router.svelte";

describe("routes", () => {
  it("round-trip through the hash, ids with odd characters included", () => {
    for (const r of [
      { name: "dashboard" },
      { name: "session", host: "h-1", id: "tmux-default-3" },
      { name: "pair", code: "AB12CD" },
      { name: "logs" },
    ] as const) {
      expect(parseRoute(href(r))).toEqual(r);
    }
  });
  it("a notification's link opens the session on the host serving the page", () => {
    vi.stubGlobal("location", { origin: "https://box.tailnet.ts.net:7420", hash: "" });
    expect(parseRoute("#/sessions/abc-1?request=p7")).toEqual({
      name: "session",
      host: "https://box.tailnet.ts.net:7420",
      id: "abc-1",
    });
    vi.unstubAllGlobals();
  });
  it("a notification's link button opens the answer page with its token", () => {
    expect(parseRoute("#act=pna_abc.def")).toEqual({ name: "act", token: "pna_abc.def" });
    expect(parseRoute(href({ name: "act", token: "pna_x.y" }))).toEqual({
      name: "act",
      token: "pna_x.y",
    });
  });
  it("a scanned pairing link opens the pairing page with the link", () => {
    expect(parseRoute("#pair=abc&fp=01")).toEqual({ name: "pair", link: "#pair=abc&fp=01" });
  });
  it("a paddock:// link the desktop app was opened with reaches the pairing page whole", () => {
    const link = "paddock://pair?url=https%3A%2F%2F127.0.0.1%3A7420&secret=s3&fp=ab";
    expect(parseRoute(`#/pair?link=${encodeURIComponent(link)}`)).toEqual({ name: "pair", link });
  });
  it("unknown paths show the dashboard", () => {
    expect(parseRoute("#/nope")).toEqual({ name: "dashboard" });
    expect(parseRoute("")).toEqual({ name: "dashboard" });
  });
});
