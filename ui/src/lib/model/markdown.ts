/**
 * A small, safe markdown reader for the agent's words: it turns text into blocks and inline
 * spans (data, never HTML), which Svelte renders as text nodes. Raw HTML in the text stays
 * text; a link keeps its address visible and only http(s) and mailto addresses become links.
 *
 * Covered: headings (#), paragraphs, fenced code blocks (``` or ~~~, with a language),
 * bulleted and numbered lists, block quotes, rules, and inline `code`, **bold**, *italic* /
 * _italic_, ~~strike~~, [text](url) and bare http(s) addresses. Tables are shown as code.
 */

export type Inline =
  | { t: "text"; text: string }
  | { t: "code"; text: string }
  | { t: "strong"; children: Inline[] }
  | { t: "em"; children: Inline[] }
  | { t: "del"; children: Inline[] }
  | { t: "link"; href: string | null; text: string; url: string };

export type Block =
  | { t: "p"; inline: Inline[] }
  | { t: "h"; level: number; inline: Inline[] }
  | { t: "code"; lang: string; text: string }
  | { t: "list"; ordered: boolean; start: number; items: Inline[][] }
  | { t: "quote"; blocks: Block[] }
  | { t: "hr" };

/** The address a link may open: http(s) and mailto only; anything else is shown, not linked. */
export function safeHref(url: string): string | null {
  const u = url.trim();
  return /^(https?:\/\/|mailto:)/i.test(u) ? u : null;
}

const FENCE = /^ {0,3}(```+|~~~+)\s*([\w+#.-]*)/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const BULLET = /^ {0,3}[-*+]\s+(.*)$/;
const NUMBERED = /^ {0,3}(\d{1,9})[.)]\s+(.*)$/;
const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
const TABLE = /^\s*\|.*\|\s*$/;

export function parseMarkdown(src: string): Block[] {
  const lines = src.replace(/\r\n?/g, "\n").split("\n");
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const mark = fence[1];
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i].trimStart().startsWith(mark)) body.push(lines[i++]);
      i++; // the closing fence (or the end)
      blocks.push({ t: "code", lang: fence[2] ?? "", text: body.join("\n") });
      continue;
    }
    const h = HEADING.exec(line);
    if (h) {
      blocks.push({ t: "h", level: h[1].length, inline: parseInline(h[2]) });
      i++;
      continue;
    }
    if (RULE.test(line)) {
      blocks.push({ t: "hr" });
      i++;
      continue;
    }
    if (line.trimStart().startsWith(">")) {
      const body: string[] = [];
      while (i < lines.length && lines[i].trimStart().startsWith(">"))
        body.push(lines[i++].trimStart().replace(/^>\s?/, ""));
      blocks.push({ t: "quote", blocks: parseMarkdown(body.join("\n")) });
      continue;
    }
    if (TABLE.test(line)) {
      const body: string[] = [];
      while (i < lines.length && TABLE.test(lines[i])) body.push(lines[i++]);
      blocks.push({ t: "code", lang: "table", text: body.join("\n") });
      continue;
    }
    const bullet = BULLET.exec(line);
    const numbered = NUMBERED.exec(line);
    if (bullet || numbered) {
      const ordered = !bullet;
      const items: string[] = [];
      while (i < lines.length) {
        const l = lines[i];
        const m = ordered ? NUMBERED.exec(l) : BULLET.exec(l);
        if (m) items.push(ordered ? m[2] : m[1]);
        else if (l.trim() && /^\s{2,}/.test(l) && items.length)
          items[items.length - 1] += " " + l.trim();
        else break;
        i++;
      }
      blocks.push({
        t: "list",
        ordered,
        start: numbered ? Number(numbered[1]) : 1,
        items: items.map(parseInline),
      });
      continue;
    }
    const para: string[] = [];
    while (
      i < lines.length &&
      lines[i].trim() &&
      !FENCE.test(lines[i]) &&
      !HEADING.test(lines[i]) &&
      !BULLET.test(lines[i]) &&
      !NUMBERED.test(lines[i]) &&
      !lines[i].trimStart().startsWith(">")
    )
      para.push(lines[i++].trim());
    blocks.push({ t: "p", inline: parseInline(para.join("\n")) });
  }
  return blocks;
}

const BARE_URL = /https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"]/y;

/** Inline spans of one paragraph's text. */
export function parseInline(src: string): Inline[] {
  const out: Inline[] = [];
  let text = "";
  const flush = () => {
    if (text) out.push({ t: "text", text });
    text = "";
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === "\\" && i + 1 < src.length && /[\\`*_[\]()~#>!-]/.test(src[i + 1])) {
      text += src[i + 1];
      i += 2;
      continue;
    }
    if (c === "`") {
      let n = 1;
      while (src[i + n] === "`") n++;
      const fence = "`".repeat(n);
      const end = src.indexOf(fence, i + n);
      if (end > 0) {
        flush();
        out.push({ t: "code", text: src.slice(i + n, end).trim() || src.slice(i + n, end) });
        i = end + n;
        continue;
      }
    }
    const pair = (mark: string, kind: "strong" | "em" | "del"): boolean => {
      if (!src.startsWith(mark, i)) return false;
      const from = i + mark.length;
      if (src[from] === " " || from >= src.length) return false;
      const end = src.indexOf(mark, from + 1);
      if (end < 0 || src[end - 1] === " ") return false;
      // `_` inside a word (snake_case) is not emphasis.
      if (mark === "_" && (/\w/.test(src[i - 1] ?? "") || /\w/.test(src[end + 1] ?? "")))
        return false;
      flush();
      out.push({ t: kind, children: parseInline(src.slice(from, end)) });
      i = end + mark.length;
      return true;
    };
    if (pair("**", "strong") || pair("__", "strong") || pair("~~", "del")) continue;
    if (pair("*", "em") || pair("_", "em")) continue;
    if (c === "[") {
      const close = src.indexOf("](", i);
      const end = close > 0 ? src.indexOf(")", close + 2) : -1;
      if (close > 0 && end > 0 && !src.slice(i + 1, close).includes("\n")) {
        flush();
        const url = src.slice(close + 2, end).trim();
        out.push({ t: "link", text: src.slice(i + 1, close), url, href: safeHref(url) });
        i = end + 1;
        continue;
      }
    }
    if (c === "h") {
      BARE_URL.lastIndex = i;
      const m = BARE_URL.exec(src);
      if (m && !/\w/.test(src[i - 1] ?? "")) {
        flush();
        out.push({ t: "link", text: m[0], url: m[0], href: safeHref(m[0]) });
        i += m[0].length;
        continue;
      }
    }
    text += c;
    i++;
  }
  flush();
  return out;
}
