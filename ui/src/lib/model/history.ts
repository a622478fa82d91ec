/**
 * The agent history (`GET /api/v1/history`) as people read it: a search hit's snippet split
 * into plain and matched parts (rendered as text, never as HTML), and a past session's figures.
 */
import type { HistoryEntry } from "../backend/types";

/** The host marks each matched term of a snippet between U+0002 and U+0003. */
const OPEN = "\u0002";
const CLOSE = "\u0003";

export interface SnippetPart {
  text: string;
  /** A term the search matched: shown highlighted. */
  match: boolean;
}

/**
 * A snippet as parts to render as text. A stray or missing mark never hides text: an
 * unclosed match runs to the end, a close without an open is dropped. Empty parts are left
 * out and neighbours of the same kind joined.
 */
export function snippetParts(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let match = false;
  let text = "";
  const flush = () => {
    if (!text) return;
    const last = parts[parts.length - 1];
    if (last && last.match === match) last.text += text;
    else parts.push({ text, match });
    text = "";
  };
  for (const ch of snippet) {
    if (ch === OPEN || ch === CLOSE) {
      flush();
      match = ch === OPEN;
    } else {
      text += ch;
    }
  }
  flush();
  return parts;
}

/** What to call a past session: its title, else its first prompt (one line), else its id. */
export function sessionTitle(
  s: Pick<HistoryEntry, "title" | "first_prompt" | "session_id" | "path">,
): string {
  const line = (t: string | null | undefined) => t?.replace(/\s+/g, " ").trim() ?? "";
  return line(s.title) || line(s.first_prompt) || s.session_id || s.path.split("/").pop() || s.path;
}

/** Tokens in a few characters: 950, 12.3k, 4.5M. */
export function tokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** The last folder of a path, for a narrow screen (the whole path goes in a title). */
export function folderName(path: string | null | undefined): string {
  if (!path) return "";
  const parts = path.split("/").filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

/** When, as a local date and time; "" when unknown. */
export function when(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "";
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleString();
}
