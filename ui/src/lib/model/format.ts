/** Figures as people read them. */

export function age(fromIso: string, now: number = Date.now()): string {
  const t = Date.parse(fromIso);
  if (Number.isNaN(t)) return "";
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d`;
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v < 10 && i > 0 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export function percent(n: number | null | undefined): string {
  if (n === null || n === undefined) return "–";
  return `${n < 10 ? n.toFixed(1) : Math.round(n)}%`;
}

export function cost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined) return "";
  return usd < 0.01 && usd > 0 ? "<$0.01" : `$${usd.toFixed(2)}`;
}

/** `~/src/x` for paths under the home directory the host reports, else the path. */
export function shortPath(path: string, home?: string): string {
  if (home && (path === home || path.startsWith(home + "/"))) return "~" + path.slice(home.length);
  return path;
}
