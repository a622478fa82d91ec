import { describe, expect, it } from "vitest";
import { NewestPin, type ScrollBox } from "../src/lib/newest-pin.svelte";

/** A 500 px box over `height` px of turns, scrolled to `top`. */
const box = (height: number, top = 0): ScrollBox => ({
  scrollTop: top,
  scrollHeight: height,
  clientHeight: 500,
});

describe("a conversation opens on its newest turn", () => {
  it("a thread opens at its bottom once its first page is shown, not before", () => {
    const pin = new NewestPin();
    const b = box(0);
    pin.stick(b);
    expect(b.scrollTop).toBe(0);
    // The first page is laid out: the layout scrolls the box to its top as it grows.
    Object.assign(b, { scrollHeight: 200_000 });
    expect(pin.scrolled(b)).toBe(false);
    expect(pin.follow).toBe(true);
    pin.opened();
    pin.stick(b);
    expect(b.scrollTop).toBe(200_000);
    expect(pin.opening).toBe(false);
  });

  it("the reader scrolling up stops the following, and back near the bottom resumes it", () => {
    const pin = new NewestPin();
    pin.opened();
    const b = box(10_000, 9_500);
    expect(pin.scrolled(b)).toBe(true);
    expect(pin.follow).toBe(true);
    b.scrollTop = 4_000;
    expect(pin.scrolled(b)).toBe(true);
    expect(pin.follow).toBe(false);
    // New turns (or a resize) leave a reader who scrolled up where they are.
    pin.stick(b);
    expect(b.scrollTop).toBe(4_000);
    // Within 48 px of the bottom counts as the bottom.
    b.scrollTop = 9_460;
    pin.scrolled(b);
    expect(pin.follow).toBe(true);
  });

  it("another session (or a transcript that starts over) opens on its newest turn again", () => {
    const pin = new NewestPin();
    pin.opened();
    const b = box(10_000, 100);
    pin.scrolled(b);
    expect(pin.follow).toBe(false);
    pin.open();
    expect(pin.follow).toBe(true);
    expect(pin.opening).toBe(true);
    // The empty thread's scroll to its top while it loads does not stop the following.
    const fresh = box(300, 0);
    expect(pin.scrolled(fresh)).toBe(false);
    pin.opened();
    Object.assign(fresh, { scrollHeight: 50_000 });
    pin.stick(fresh);
    expect(fresh.scrollTop).toBe(50_000);
  });

  it("a following thread keeps to its bottom when its box grows or shrinks", () => {
    const pin = new NewestPin();
    pin.opened();
    const b = box(8_000, 7_500);
    Object.assign(b, { scrollHeight: 9_000, clientHeight: 300 });
    pin.stick(b);
    expect(b.scrollTop).toBe(9_000);
  });
});
