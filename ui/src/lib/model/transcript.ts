/**
 * One line of an agent's transcript as the Raw transcript shows it folded: its kind (`type`,
 * with the role or payload type when they say more) and a one-line summary of what it says.
 * Lines are whatever the agent wrote (Claude Code's and Codex's JSONL, or a string for a line
 * that is not JSON), so every field is looked for, never assumed.
 */
const MAX = 200;

type Obj = { [key: string]: JsonValue | undefined };

function obj(v: JsonValue | undefined): Obj | null {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : null;
}
function str(v: JsonValue | undefined): string | null {
  return typeof v === "string" ? v : null;
}

/** Blanks collapsed to single spaces, cut at `max` characters with an ellipsis. */
export function oneLine(text: string, max = MAX): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length > max ? t.slice(0, max - 1) + "…" : t;
}

/** The text of a message's content: a string, or blocks (text, tool use, tool result, …). */
function contentText(content: JsonValue | undefined): string | null {
  const s = str(content);
  if (s !== null) return s;
  if (!Array.isArray(content)) return null;
  const parts: string[] = [];
  for (const b of content) {
    const block = obj(b);
    if (!block) continue;
    const type = str(block.type) ?? "";
    const text = str(block.text) ?? str(block.thinking);
    if (type === "tool_use" || type === "function_call") {
      const input = block.input ?? block.arguments;
      const cmd = str(obj(input)?.command) ?? str(obj(input)?.file_path);
      parts.push(
        `${str(block.name) ?? "tool"}(${cmd ?? (input === undefined ? "" : JSON.stringify(input))})`,
      );
    } else if (type === "tool_result") {
      parts.push(`result: ${contentText(block.content) ?? ""}`);
    } else if (type === "thinking" && text !== null) {
      parts.push(`thinking: ${text}`);
    } else if (text !== null) {
      parts.push(text);
    }
  }
  return parts.length ? parts.join(" · ") : null;
}

export interface LineSummary {
  /** What kind of line: `user`, `assistant`, `summary`, `response_item · message`, `text`. */
  kind: string;
  /** The role, when the line names one different from its kind. */
  role: string | null;
  /** One line of what it says. */
  summary: string;
  /** Its timestamp as written (RFC 3339), when it has one. */
  timestamp: string | null;
}

export function summariseLine(line: JsonValue): LineSummary {
  const o = obj(line);
  if (!o) {
    return {
      kind: typeof line === "string" ? "text" : Array.isArray(line) ? "array" : typeof line,
      role: null,
      summary: oneLine(typeof line === "string" ? line : JSON.stringify(line)),
      timestamp: null,
    };
  }
  // Codex wraps its items: {type: "response_item", payload: {type: "message", role, content}}.
  const payload = obj(o.payload);
  const message = obj(o.message) ?? (payload && str(payload.type) === "message" ? payload : null);
  const type = str(o.type) ?? str(o.role) ?? str(message?.role) ?? "line";
  const kind = payload && str(payload.type) ? `${type} · ${str(payload.type)}` : type;
  const role = str(message?.role) ?? str(payload?.role) ?? str(o.role);
  const text =
    contentText(message?.content) ??
    contentText(payload?.content) ??
    str(o.summary) ??
    str(payload?.summary) ??
    contentText(o.content) ??
    str(payload?.text) ??
    str(payload?.message) ??
    str(o.text) ??
    str(o.subtype) ??
    JSON.stringify(o);
  return {
    kind,
    role: role && role !== type ? role : null,
    summary: oneLine(text),
    timestamp: str(o.timestamp) ?? str(payload?.timestamp),
  };
}
