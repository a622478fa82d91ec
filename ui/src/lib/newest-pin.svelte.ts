// Opening a conversation on its newest turn and keeping it there while its reader stays
// there: the one place for the rules the conversation view used to keep in four guards.

/** The part of a scrolling box the pin reads and moves. */
export interface ScrollBox {
  scrollTop: number;
  readonly scrollHeight: number;
  readonly clientHeight: number;
}

/** How near its bottom (px) a box still counts as showing the newest turn. */
const NEAR_BOTTOM = 48;

/**
 * Whether a thread follows its newest turn, and whether it is still opening.
 * - `open()`: a thread opens (another session, or its transcript started over). It follows
 *   its newest turn again, whatever the last one's reader did, and is opening until
 *   `opened()`, when its first page is shown.
 * - While it opens, a scroll is the layout's, not the reader's: `scrolled` ignores it, and
 *   `stick` leaves the box alone (there is no bottom to go to yet).
 * - Once open, `scrolled` follows while the box is near its bottom and stops when the reader
 *   scrolls up; `stick` keeps a following box at its bottom (new turns, a resize).
 */
export class NewestPin {
  /** The thread keeps to its newest turn (its reader has not scrolled up). */
  follow = $state(true);
  /** Its first page is still loading. */
  opening = $state(true);

  open() {
    this.follow = true;
    this.opening = true;
  }

  opened() {
    this.opening = false;
  }

  /** The box was scrolled: whether it counts as its reader's (not while opening). */
  scrolled(box: ScrollBox): boolean {
    if (this.opening) return false;
    this.follow = box.scrollHeight - box.scrollTop - box.clientHeight < NEAR_BOTTOM;
    return true;
  }

  /** Puts a following, opened box at its bottom. */
  stick(box: ScrollBox | undefined) {
    if (box && this.follow && !this.opening) box.scrollTop = box.scrollHeight;
  }
}
