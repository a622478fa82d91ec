/**
 * Process trees as the Processes view shows them: the host's flat list (sessions oldest first,
 * each tree root first with parents before children) grouped by session, each process placed
 * under its parent by `ppid`, optionally filtered by text and with siblings sorted by a figure.
 */
import type { ProcessView } from "../backend/types";

export type ProcessSort = "tree" | "cpu" | "rss" | "pid" | "threads" | "started_at";

export interface ProcessRow {
  process: ProcessView;
  /** 0 for a tree's root, 1 for its children, and so on. */
  depth: number;
}

export interface ProcessGroup {
  session: string;
  rows: ProcessRow[];
}

/** The command line as a shell would show it (arguments with blanks or quotes quoted); the
 * process's name when the host could not read its command line. */
export function commandLine(p: Pick<ProcessView, "command" | "name">): string {
  if (p.command.length === 0) return p.name;
  return p.command
    .map((a) => (a === "" || /[\s'"\\$&|;<>()*?`]/.test(a) ? `'${a.replace(/'/g, `'\\''`)}'` : a))
    .join(" ");
}

/** True when `p` matches every word of `filter` (pid, name, command line, status, folder). */
export function matches(p: ProcessView, filter: string): boolean {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const text = [p.pid, p.name, commandLine(p), p.status, p.cwd ?? "", p.tty ?? ""]
    .join(" ")
    .toLowerCase();
  return words.every((w) => text.includes(w));
}

function compare(a: ProcessView, b: ProcessView, sort: ProcessSort): number {
  switch (sort) {
    case "cpu":
      return b.cpu - a.cpu;
    case "rss":
      return b.rss - a.rss;
    case "threads":
      return (b.threads ?? -1) - (a.threads ?? -1);
    case "pid":
      return a.pid - b.pid;
    case "started_at":
      return Date.parse(a.started_at) - Date.parse(b.started_at);
    case "tree":
      return 0;
  }
}

/**
 * Groups by session (in the host's order) and lays each group out as an indented tree. A
 * process whose parent is not in its session's list is a root. With a filter, a group keeps
 * the processes that match and their ancestors (so each match shows where it runs); a group
 * whose session label matches (`labels`) is kept whole. Siblings keep the host's order unless
 * `sort` names a figure (largest first; pid and start time ascending).
 */
export function processTree(
  list: ProcessView[],
  opts: { filter?: string; sort?: ProcessSort; labels?: Record<string, string> } = {},
): ProcessGroup[] {
  const { filter = "", sort = "tree", labels = {} } = opts;
  const bySession = new Map<string, ProcessView[]>();
  for (const p of list) {
    const g = bySession.get(p.session);
    if (g) g.push(p);
    else bySession.set(p.session, [p]);
  }
  const words = filter.trim().toLowerCase();
  const groups: ProcessGroup[] = [];
  for (const [session, procs] of bySession) {
    const byPid = new Map(procs.map((p) => [p.pid, p]));
    const children = new Map<number, ProcessView[]>();
    const roots: ProcessView[] = [];
    for (const p of procs) {
      const parent = p.ppid !== null && p.ppid !== p.pid ? byPid.get(p.ppid) : undefined;
      if (parent) {
        const c = children.get(parent.pid);
        if (c) c.push(p);
        else children.set(parent.pid, [p]);
      } else roots.push(p);
    }
    // Which processes to show: all, or the matches and their ancestors.
    let keep: Set<number> | null = null;
    const label = (labels[session] ?? session).toLowerCase();
    if (words && !words.split(/\s+/).every((w) => label.includes(w))) {
      keep = new Set();
      for (const p of procs) {
        if (!matches(p, words)) continue;
        let q: ProcessView | undefined = p;
        while (q && !keep.has(q.pid)) {
          keep.add(q.pid);
          q = q.ppid !== null ? byPid.get(q.ppid) : undefined;
        }
      }
      if (keep.size === 0) continue;
    }
    const rows: ProcessRow[] = [];
    const seen = new Set<number>();
    const visit = (level: ProcessView[], depth: number) => {
      const sorted = sort === "tree" ? level : [...level].sort((a, b) => compare(a, b, sort));
      for (const p of sorted) {
        if (seen.has(p.pid) || (keep && !keep.has(p.pid))) continue;
        seen.add(p.pid);
        rows.push({ process: p, depth });
        visit(children.get(p.pid) ?? [], depth + 1);
      }
    };
    visit(roots, 0);
    // A cycle in ppid (pid reuse between two samples) leaves processes unreached: show them
    // as roots rather than lose them.
    visit(
      procs.filter((p) => !seen.has(p.pid)),
      0,
    );
    groups.push({ session, rows });
  }
  return groups;
}
