/**
 * Pure logic of the conversation view: merging pages and live updates into one ordered list
 * of turns, diff lines, finding text in turns, the slash commands each agent offers.
 */
import type { ConversationPage, Item, Turn } from "../backend/types";

/** The turns known so far, by index, oldest first. */
export interface Thread {
  turns: Turn[];
  /** The cursor of the page before the first turn shown (`null`: the start is shown). */
  older: number | null;
  total: number;
}

export const emptyThread = (): Thread => ({ turns: [], older: null, total: 0 });

/** `turns` put in place: a known index is replaced, a new one inserted in order. */
export function mergeTurns(thread: Thread, turns: Turn[], total?: number | null): Thread {
  const byIndex = new Map(thread.turns.map((t) => [t.index, t]));
  for (const t of turns) byIndex.set(t.index, t);
  const merged = [...byIndex.values()].sort((a, b) => a.index - b.index);
  return { ...thread, turns: merged, total: Math.max(total ?? thread.total, merged.length) };
}

/** The newest page first; an older page joins before it. */
export function withPage(thread: Thread, page: ConversationPage, isOlder: boolean): Thread {
  const merged = mergeTurns(thread, page.turns, page.total);
  // The newest page read again (after a reconnect) keeps the older pages already shown.
  return { ...merged, older: isOlder || thread.turns.length === 0 ? page.older : thread.older };
}

export type DiffLine = { kind: "add" | "del" | "hunk" | "ctx"; text: string };

export function diffLines(diff: string): DiffLine[] {
  return diff
    .replace(/\n$/, "")
    .split("\n")
    .map((text) => ({
      kind: text.startsWith("@@")
        ? "hunk"
        : text.startsWith("+")
          ? "add"
          : text.startsWith("-")
            ? "del"
            : "ctx",
      text,
    }));
}

function itemText(item: Item): string {
  switch (item.kind) {
    case "text":
    case "thinking":
    case "notice":
      return item.text;
    case "tool":
      return [
        item.tool,
        item.summary,
        item.output ?? "",
        item.diff?.diff ?? "",
        ...(item.subagent?.items.map(itemText) ?? []),
        ...item.questions.map((q) => `${q.question} ${q.answer ?? ""}`),
      ].join("\n");
    case "api_error":
      return item.message;
    default:
      return "";
  }
}

/** Whether a turn mentions `query` (case-insensitive) in its prompt or any item. */
export function turnMatches(turn: Turn, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  if (turn.prompt?.toLowerCase().includes(q)) return true;
  return turn.items.some((i) => itemText(i).toLowerCase().includes(q));
}

export interface SlashCommand {
  name: string;
  help: string;
}

/** The slash commands an agent's prompt accepts (built into each CLI). */
export const SLASH_COMMANDS: Record<string, SlashCommand[]> = {
  claude: [
    { name: "/compact", help: "summarize the conversation to free context" },
    { name: "/clear", help: "start a fresh conversation" },
    { name: "/cost", help: "tokens and cost so far" },
    { name: "/context", help: "what fills the context" },
    { name: "/model", help: "choose the model" },
    { name: "/review", help: "review a pull request" },
    { name: "/init", help: "write CLAUDE.md for this project" },
    { name: "/memory", help: "edit the memory files" },
    { name: "/todos", help: "the current todo list" },
    { name: "/help", help: "every command" },
  ],
  codex: [
    { name: "/model", help: "choose the model" },
    { name: "/approvals", help: "what runs without asking" },
    { name: "/new", help: "start a fresh conversation" },
    { name: "/compact", help: "summarize the conversation" },
    { name: "/diff", help: "the changes so far" },
    { name: "/status", help: "session and token figures" },
    { name: "/review", help: "review the changes" },
  ],
  aider: [
    { name: "/add", help: "add files to the chat" },
    { name: "/drop", help: "remove files from the chat" },
    { name: "/ask", help: "ask without editing" },
    { name: "/code", help: "ask for edits" },
    { name: "/architect", help: "plan, then edit" },
    { name: "/diff", help: "the last changes" },
    { name: "/undo", help: "undo the last commit aider made" },
    { name: "/run", help: "run a shell command" },
    { name: "/test", help: "run the tests" },
    { name: "/tokens", help: "the context's token count" },
  ],
};

/** The commands offered for what is typed: only while it is one word starting with `/`. */
export function slashMatches(agent: string | null | undefined, typed: string): SlashCommand[] {
  if (!typed.startsWith("/") || /\s/.test(typed)) return [];
  return (SLASH_COMMANDS[agent ?? ""] ?? []).filter((c) => c.name.startsWith(typed));
}

/** The storage key of a session's unsent message. */
export const draftKey = (hostId: string, sessionId: string) =>
  `paddock.draft.${hostId}.${sessionId}`;
