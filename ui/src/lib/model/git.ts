/**
 * How the session header words a session folder's git state (branch, ahead/behind, diff stat),
 * as the host computed it (`SessionView.git`, see README "Worktrees").
 */
import type { GitStatus } from "../backend/types";

/** "paddock/fix ↑2 ↓1": the branch (or commit) and how far it is from its base. */
export function gitBranchLine(g: GitStatus): string {
  let out = g.branch ?? g.commit ?? "(no commit)";
  if (g.ahead > 0) out += ` ↑${g.ahead}`;
  if (g.behind > 0) out += ` ↓${g.behind}`;
  return out;
}

/** "3 files +42 −7, 1 uncommitted", or "no changes". */
export function gitStatLine(g: GitStatus): string {
  if (g.files_changed === 0) return "no changes";
  const files = g.files_changed === 1 ? "1 file" : `${g.files_changed} files`;
  const dirty = g.uncommitted > 0 ? `, ${g.uncommitted} uncommitted` : "";
  return `${files} +${g.insertions} −${g.deletions}${dirty}`;
}

/** The tooltip: what ahead/behind count against, and where the worktree is. */
export function gitTitle(g: GitStatus): string {
  const parts = [];
  if (g.base) parts.push(`${g.ahead} ahead of and ${g.behind} behind ${g.base}`);
  if (g.worktree) parts.push(`in the worktree ${g.worktree}`);
  return parts.join("; ");
}
