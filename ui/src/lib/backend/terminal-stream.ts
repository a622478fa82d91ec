/**
 * Exactly-once terminal output across reconnects.
 *
 * The server addresses every byte of a session's output by its absolute offset since the
 * session began. A `TerminalStream` remembers the offset of the next byte it expects and turns
 * whatever arrives (live chunks, chunks replayed after a reconnect, snapshots) into the bytes to
 * write to the terminal: overlaps are trimmed, duplicates dropped, and a snapshot replaces the
 * screen. After a reconnect the socket subscribes with `resumeFrom()`.
 */

export type StreamAction =
  /** Write these bytes to the terminal. */
  | { kind: "write"; bytes: Uint8Array }
  /** Clear the terminal, then write the snapshot. */
  | { kind: "reset"; bytes: Uint8Array }
  /** Nothing new (a duplicate of what is already on screen). */
  | { kind: "none" };

export class TerminalStream {
  #next: number | null = null;
  #gaps = 0;

  /** The offset to resume from, or null to ask for a snapshot (first attach). */
  resumeFrom(): number | null {
    return this.#next;
  }

  /** How many times the server could not send the missing bytes and sent a snapshot instead. */
  get gaps(): number {
    return this.#gaps;
  }

  /** Output starting at absolute `offset`. */
  output(offset: number, bytes: Uint8Array): StreamAction {
    const end = offset + bytes.length;
    if (this.#next === null) {
      // Nothing seen yet: take the stream from wherever it starts.
      this.#next = end;
      return { kind: "write", bytes };
    }
    if (end <= this.#next) return { kind: "none" };
    if (offset > this.#next) {
      // Bytes are missing and the server did not say so with a snapshot; show what came,
      // and count it: the stream is no longer exact.
      this.#gaps += 1;
      this.#next = end;
      return { kind: "write", bytes };
    }
    const fresh = bytes.subarray(this.#next - offset);
    this.#next = end;
    return { kind: "write", bytes: fresh };
  }

  /** A screen snapshot whose next byte is at `offset`. `gap` when bytes were lost. */
  snapshot(offset: number, bytes: Uint8Array, gap: boolean): StreamAction {
    if (gap && this.#next !== null) this.#gaps += 1;
    this.#next = offset;
    return { kind: "reset", bytes };
  }
}
