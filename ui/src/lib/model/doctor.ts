/**
 * How the Settings page shows `paddock doctor`'s report (`GET /api/v1/system/doctor`): the
 * checks that need attention first, each with its mark, and a one-line summary.
 */
import type { CheckStatus, DoctorCheck, DoctorReport } from "../backend/types";

const MARK: Record<CheckStatus, string> = { ok: "✓", warn: "!", fail: "✗" };
const RANK: Record<CheckStatus, number> = { fail: 0, warn: 1, ok: 2 };

export function mark(status: CheckStatus): string {
  return MARK[status];
}

/** Broken checks first, then the ones worth a look, then the fine ones; each group in the host's order. */
export function ordered(report: DoctorReport): DoctorCheck[] {
  return report.checks
    .map((c, i) => ({ c, i }))
    .sort((a, b) => RANK[a.c.status] - RANK[b.c.status] || a.i - b.i)
    .map(({ c }) => c);
}

/** "2 broken, 1 to look at, 8 fine" (only the parts that are there). */
export function summary(report: DoctorReport): string {
  const n = (s: CheckStatus) => report.checks.filter((c) => c.status === s).length;
  const parts = [
    [n("fail"), "broken"],
    [n("warn"), "to look at"],
    [n("ok"), "fine"],
  ] as const;
  return parts
    .filter(([count]) => count > 0)
    .map(([count, what]) => `${count} ${what}`)
    .join(", ");
}
