/** What the phone key bar sends, and Ctrl applied to the next typed key. */

export const KEYS = {
  Esc: "\x1b",
  Tab: "\t",
  Enter: "\r",
  "Ctrl-C": "\x03",
  Up: "\x1b[A",
  Down: "\x1b[B",
  Right: "\x1b[C",
  Left: "\x1b[D",
} as const;

/** `a`..`z`, `@`, `[`, `\`, `]`, `^`, `_`, space and `?` with Ctrl; other input unchanged. */
export function withCtrl(data: string): string {
  if (data.length !== 1) return data;
  const c = data.toUpperCase().charCodeAt(0);
  if (c >= 64 && c <= 95) return String.fromCharCode(c - 64);
  if (data === " ") return "\x00";
  if (data === "?") return "\x7f";
  return data;
}
