/** What a component's health line adds to its message in the System view. */
import type { ComponentHealth } from "../backend/types";

/**
 * "N records not written yet, kept in memory" for the database while it is not healthy and
 * holds records it could not write (a full disk); null otherwise (a few records waiting for
 * their batch is normal and not worth a word).
 */
export function pendingNote(c: ComponentHealth): string | null {
  const n = c.pending_writes;
  if (n === undefined || n === 0 || c.status === "healthy") return null;
  return `${n} ${n === 1 ? "record" : "records"} not written yet, kept in memory`;
}
