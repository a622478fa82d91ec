/**
 * Tells the host whether its owner is looking at this page (`presence` over the socket):
 * when the page becomes visible or hidden, and again at most every 30 s while they use it.
 * The host sends notifications to the device its owner is at first and holds push to the
 * others (`[notify.presence]`); a page not reported again within the host's window counts
 * as left.
 */

/** How often use of a visible page is reported again, at most. */
export const PRESENCE_EVERY_MS = 30_000;

export class PresenceReporter {
  #last: boolean | null = null;
  #lastAt = 0;

  constructor(
    /** Sends the message; false when the socket is not ready (then it is tried again later). */
    private readonly send: (visible: boolean) => boolean,
    private readonly every = PRESENCE_EVERY_MS,
  ) {}

  /** The page's state at `now` (ms); returns whether a message went out. */
  update(visible: boolean, now: number): boolean {
    const same = visible === this.#last;
    if (same && (!visible || now - this.#lastAt < this.every)) return false;
    if (!this.send(visible)) return false;
    this.#last = visible;
    this.#lastAt = now;
    return true;
  }

  /** A new socket knows nothing yet: the next update is sent. */
  reset(): void {
    this.#last = null;
  }
}

/** Whether the page is on screen now. */
export function pageVisible(): boolean {
  return typeof document !== "undefined" && document.visibilityState === "visible";
}

/** Calls `onChange` whenever the owner shows, hides or uses the page; returns the remover. */
export function watchPage(onChange: () => void): () => void {
  if (typeof document === "undefined" || typeof window === "undefined") return () => {};
  const opts = { capture: true, passive: true } as const;
  document.addEventListener("visibilitychange", onChange);
  window.addEventListener("focus", onChange);
  window.addEventListener("keydown", onChange, opts);
  window.addEventListener("pointerdown", onChange, opts);
  return () => {
    document.removeEventListener("visibilitychange", onChange);
    window.removeEventListener("focus", onChange);
    window.removeEventListener("keydown", onChange, opts);
    window.removeEventListener("pointerdown", onChange, opts);
  };
}
