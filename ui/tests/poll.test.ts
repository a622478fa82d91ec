import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { pollWhileVisible } from "../src/lib/poll";

class FakeDocument extends EventTarget {
  hidden = false;
  show(visible: boolean) {
    this.hidden = !visible;
    this.dispatchEvent(new Event("visibilitychange"));
  }
}

describe("polling while the page is visible", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("asks at once, then every interval; stops when hidden and asks again when shown; ends when stopped", async () => {
    const doc = new FakeDocument();
    let calls = 0;
    const stop = pollWhileVisible(() => calls++, 2000, doc as unknown as Document);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(4000);
    expect(calls).toBe(3);
    doc.show(false);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(3);
    doc.show(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(4);
    stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(4);
  });

  it("never runs two calls at once when one is slow, and goes on after a failure", async () => {
    const doc = new FakeDocument();
    let running = 0;
    let most = 0;
    let calls = 0;
    const stop = pollWhileVisible(
      async () => {
        calls++;
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5000));
        running--;
        if (calls === 1) throw new Error("host away");
      },
      1000,
      doc as unknown as Document,
    );
    await vi.advanceTimersByTimeAsync(13_000);
    expect(most).toBe(1);
    expect(calls).toBe(3);
    stop();
  });
});
