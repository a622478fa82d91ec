import { describe, expect, it } from "vitest";
import { PresenceReporter } from "../src/lib/backend/presence";

describe("PresenceReporter", () => {
  it("reports changes at once and use of a visible page at most every period", () => {
    const sent: boolean[] = [];
    const r = new PresenceReporter((v) => (sent.push(v), true), 30_000);
    expect(r.update(true, 0)).toBe(true);
    expect(r.update(true, 10_000)).toBe(false);
    expect(r.update(true, 30_000)).toBe(true);
    expect(r.update(false, 31_000)).toBe(true);
    expect(r.update(false, 90_000)).toBe(false);
    expect(r.update(true, 90_500)).toBe(true);
    expect(sent).toEqual([true, true, false, true]);
  });

  it("tries again when the socket was not ready, and after a reconnect", () => {
    let ready = false;
    const sent: boolean[] = [];
    const r = new PresenceReporter((v) => ready && (sent.push(v), true), 30_000);
    expect(r.update(true, 0)).toBe(false);
    ready = true;
    expect(r.update(true, 1)).toBe(true);
    r.reset();
    expect(r.update(true, 2)).toBe(true);
    expect(sent).toEqual([true, true]);
  });
});
