// Generated from the Rust wire types by `UPDATE_WIRE=1 cargo test -p paddock-server --test wire`.
// Do not edit by hand.

export type SessionId = string;

export type Size = { cols: number, rows: number, };

export type Signal = "INT" | "TERM" | "KILL" | "HUP" | "STOP" | "CONT";

export type SessionState = "running" | "exited";

export type Backend = "holder" | "tmux" | "external" | "claude_bg";

export type SessionView = { id: SessionId, name: string, command: string, cwd: string, pid: number, started_at: string, 
/**
 * Clients attached through Paddock (holders only; 0 otherwise).
 */
clients: number, backend: Backend, 
/**
 * The agent running in it (`claude`, `codex`, `gemini`, `aider`, a configured name), if
 * one was recognised.
 */
agent: string | null, 
/**
 * CPU use of the whole process tree, percent of one core; null until first sampled.
 */
cpu: number | null, 
/**
 * Resident memory of the whole process tree in bytes; null until first sampled.
 */
rss: number | null, 
/**
 * The agent's process is stopped (paused through Paddock, SIGSTOP or Ctrl-Z); resume
 * continues it. Seen by the monitor each second, at once for a pause through Paddock.
 */
paused: boolean, 
/**
 * What the agent says it is doing (MCP `set_status`); absent until it says.
 */
agent_status?: AgentStatus, 
/**
 * The git state of its folder (branch, ahead/behind, changed files, diff stat), filled
 * in by the REST session routes and `paddock ls`/`show`; absent outside a repository and
 * in events.
 */
git?: GitStatus, state: AgentState, 
/**
 * The tool running (`working`), when known.
 */
tool: string | null, 
/**
 * The pending request (`waiting_permission`).
 */
permission: PermissionRequest | null, 
/**
 * Why (`errored`), or what the agent asks (`waiting_input`, when it says).
 */
reason: string | null, 
/**
 * The exit code (`completed`, `exited`); null otherwise.
 */
exit_code: number | null, 
/**
 * The signals this state was decided from, the deciding one first.
 */
sources: Array<StateSource>, 
/**
 * What the program last reported to its terminal about itself (OSC 7501: its message,
 * kind and progress), when it did; shown whatever source decided the state.
 */
program: ProgramStatus | null, 
/**
 * When the session entered this state, RFC 3339 UTC.
 */
since: string, };

export type AgentStatus = { 
/**
 * The task it works on, e.g. "Migrate the store to v3".
 */
task: string | null, 
/**
 * Steps done of `total`, when it counts steps.
 */
done: number | null, total: number | null, 
/**
 * 0..=100: given, or `done` of `total`.
 */
percent: number | null, 
/**
 * A short line on what it does now.
 */
message: string | null, 
/**
 * When it was set, RFC 3339 UTC.
 */
at: string, };

export type ProcessView = { pid: number, 
/**
 * The parent's pid, when known.
 */
ppid: number | null, 
/**
 * The session whose tree it is in.
 */
session: SessionId, 
/**
 * The OS's short name for it (Linux `comm`).
 */
name: string, 
/**
 * Its command line; empty when it may not be read.
 */
command: Array<string>, cwd: string | null, 
/**
 * When it started, RFC 3339 UTC.
 */
started_at: string, 
/**
 * CPU since the previous sample, percent of one core.
 */
cpu: number, 
/**
 * Resident memory, bytes.
 */
rss: number, threads: number | null, open_files: number | null, 
/**
 * running, sleeping, disk_sleep, stopped, zombie, ...
 */
status: string, 
/**
 * Its controlling terminal, e.g. `/dev/pts/3`.
 */
tty: string | null, };

export type HealthStatus = "healthy" | "degraded" | "unhealthy";

export type ComponentHealth = { name: string, status: HealthStatus, message: string, 
/**
 * The `database` component only: records (activity, audit entries, device changes,
 * notification records, ...) kept in memory because they are not written yet. A few for
 * a moment is normal; it grows while the database refuses writes (a full disk) and goes
 * back to 0 once they are written. Absent for other components.
 */
pending_writes?: number, };

export type SupervisorStatus = { pid: number, version: string, 
/**
 * The commit this supervisor was built from (absent from older builds and from builds
 * made outside a git checkout): `paddock up` tells builds of one version apart by it.
 */
commit?: string, 
/**
 * The newest holder protocol it speaks (absent from builds older than this field).
 */
protocol?: number, started_at: string, runtime_dir: string, data_dir: string, config_file: string, health: HealthStatus, components: Array<ComponentHealth>, sessions: number, running: number, holders: number, tmux: number, external: number, 
/**
 * The endpoint's base URL (`https://127.0.0.1:7420`), once it is serving.
 */
url: string | null, 
/**
 * SHA-256 of the endpoint's TLS certificate, lowercase hex (none over plain HTTP).
 */
fingerprint: string | null, 
/**
 * Where the owner was seen lately, most recent first (empty: away, or presence off).
 * While it is not empty, push notifications wait (see `[notify.presence]`).
 */
presence: Array<PresenceView>, 
/**
 * Every notification is held (`paddock notifications pause`, the UI's settings, the
 * app's tray); `paddock notifications resume` lets them go again.
 */
notifications_paused: boolean, };

export type PresenceView = { 
/**
 * `desk` (this host's screen) or a paired device's name.
 */
device: string, 
/**
 * What was seen: `typed into <session>`, `the UI visible`, `the app's window in front`.
 */
how: string, seconds_ago: number, };

export type CheckStatus = "ok" | "warn" | "fail";

export type DoctorCheck = { 
/**
 * A stable identifier for scripts, e.g. `agent.claude`, `env.nested`, `tmux`.
 */
id: string, 
/**
 * What was checked, for a person: "Claude Code CLI".
 */
title: string, status: CheckStatus, 
/**
 * What was found ("2.1.328 at /usr/bin/claude; tested with 2.1.328"). Never a secret.
 */
detail: string, 
/**
 * What to do next when the status is not `ok`.
 */
fix?: string, };

export type DoctorReport = { 
/**
 * The worst status of all checks.
 */
status: CheckStatus, checks: Array<DoctorCheck>, };

export type AgentState = "starting" | "running" | "working" | "waiting_permission" | "waiting_input" | "idle" | "completed" | "errored" | "exited";

export type StateSource = "hooks" | "status_file" | "program" | "transcript" | "screen" | "output" | "process";

export type ProgramState = "idle" | "working" | "blocked" | "done" | "error";

export type BlockedKind = "permission" | "question" | "auth";

export type ProgramStatus = { state: ProgramState, 
/**
 * With `blocked`: what it waits for.
 */
kind: BlockedKind | null, 
/**
 * The program's id, e.g. `claude-code`.
 */
app: string | null, 
/**
 * Its message (decoded, printable text only), e.g. `approve Bash: rm -rf build`.
 */
message: string | null, 
/**
 * Its title (decoded, printable text only).
 */
title: string | null, 
/**
 * Progress in percent, 0 to 100.
 */
progress: number | null, 
/**
 * The child record's id; absent for the record about the whole program.
 */
id: string | null, 
/**
 * When the holder received the report, RFC 3339 with milliseconds, UTC.
 */
at: string, };

export type StateDetail = { state: AgentState, 
/**
 * The tool running (`working`), when known.
 */
tool: string | null, 
/**
 * The pending request (`waiting_permission`).
 */
permission: PermissionRequest | null, 
/**
 * Why (`errored`), or what the agent asks (`waiting_input`, when it says).
 */
reason: string | null, 
/**
 * The exit code (`completed`, `exited`); null otherwise.
 */
exit_code: number | null, 
/**
 * The signals this state was decided from, the deciding one first.
 */
sources: Array<StateSource>, 
/**
 * What the program last reported to its terminal about itself (OSC 7501: its message,
 * kind and progress), when it did; shown whatever source decided the state.
 */
program: ProgramStatus | null, 
/**
 * When the session entered this state, RFC 3339 UTC.
 */
since: string, };

export type PermissionRequest = { id: string, 
/**
 * The Paddock session.
 */
session: SessionId, 
/**
 * The agent's own session id (Claude Code's `session_id`), when known.
 */
agent_session: string | null, tool: string, 
/**
 * The tool's input as the agent gave it (e.g. `{"command": "rm -rf build"}`).
 */
input: JsonValue, 
/**
 * The "always allow" rules the agent offers (Claude Code's `permission_suggestions`),
 * as it gave them.
 */
suggestions: Array<JsonValue>, 
/**
 * RFC 3339 UTC.
 */
created_at: string, 
/**
 * When the agent stops waiting for a remote answer (the prompt then stays in the
 * terminal), RFC 3339 UTC.
 */
expires_at: string, 
/**
 * How an answer reaches the agent: `hook` (exact) or `terminal` (keys typed into its
 * prompt, for agents Paddock did not start).
 */
channel: AnswerChannel, 
/**
 * The questions the tool asks the user, with their options (Claude Code's
 * AskUserQuestion): answer them with [`Decision::Answer`]. Empty for other tools.
 */
questions: Array<Question>, 
/**
 * Set once decided (or withdrawn because it was answered in the terminal or expired).
 */
outcome: PermissionOutcome | null, };

export type AnswerChannel = "hook" | "terminal";

export type Decision = { "behavior": "allow" } | { "behavior": "allow_always", suggestion: number, } | { "behavior": "answer", answers: { [key in string]?: string }, } | { "behavior": "deny", message: string | null, };

export type PermissionOutcome = { "kind": "decided", decision: Decision, 
/**
 * Who answered: a device name, `cli`, ...
 */
by: string, at: string, } | { "kind": "withdrawn", reason: string, at: string, };

export type Control = { "action": "message", text: string, 
/**
 * How long to wait for a sign that the agent took it, in milliseconds (default
 * 5000, at most [`MAX_TAKE_WAIT_MS`]).
 */
timeout_ms: number | null, 
/**
 * Type `text` exactly as given, then Enter (`paddock send --enter`), instead of as
 * one message to an agent's prompt (pasted whole when it has several lines).
 */
typed: boolean, } | { "action": "interrupt", message: string | null, } | { "action": "pause" } | { "action": "resume" };

export type InputOutcome = "submitted" | "queued" | "refused" | "unknown";

export type MessageReceipt = { outcome: InputOutcome, 
/**
 * A sentence for people: what happened, and what to do next when it was not taken.
 */
detail: string, 
/**
 * The session as it is after the message.
 */
session: SessionView, };

export type SessionInsight = { 
/**
 * The agent's own session id (Claude Code: a UUID), from the transcript.
 */
agent_session_id: string | null, 
/**
 * The session's title when the agent wrote one (an AI title, a custom title, a summary).
 */
title: string | null, 
/**
 * The last prompt the user gave: what the agent is working on.
 */
current_task: string | null, 
/**
 * The first prompt of the session.
 */
first_prompt: string | null, cwd: string | null, git_branch: string | null, 
/**
 * The model of the latest response.
 */
model: string | null, 
/**
 * The agent's version that wrote the latest record.
 */
agent_version: string | null, 
/**
 * The latest actions, oldest first (at most a few dozen).
 */
recent_actions: Array<Action>, 
/**
 * Tool calls seen in the whole transcript.
 */
total_actions: number, 
/**
 * Files the agent changed, in the order first changed.
 */
files_modified: Array<FileChange>, 
/**
 * The agent's own todo/task list, when it keeps one.
 */
progress: Progress | null, thinking: ThinkingView, tokens: TokenUsage, cost: Cost, 
/**
 * User prompts in the transcript.
 */
prompts: number, 
/**
 * Distinct model responses in the transcript.
 */
responses: number, 
/**
 * Time of the first and the latest record.
 */
started_at_ms: number | null, last_activity_ms: number | null, 
/**
 * Lines that could not be read (not JSON, cut, over the size limit): skipped, counted.
 */
skipped_lines: number, };

export type Action = { 
/**
 * The agent's id of the call.
 */
id: string | null, 
/**
 * `Bash`, `Edit`, `Write`, an MCP tool, ...
 */
tool: string, 
/**
 * One line saying what it does: the command, the file, the URL.
 */
input_summary: string, status: ActionStatus, 
/**
 * One line of what came back (the output's first line, "12 lines", ...).
 */
result_summary: string | null, 
/**
 * What went wrong, when the call failed.
 */
error: string | null, started_at_ms: number | null, duration_ms: number | null, };

export type ActionStatus = "running" | "succeeded" | "failed";

export type FileOperation = "created" | "modified";

export type FileChange = { path: string, operation: FileOperation, 
/**
 * Successful changes to the file.
 */
changes: number, lines_added: number, lines_removed: number, 
/**
 * The changes as unified-diff hunks, when the transcript has them (cut at a size limit;
 * `diff_truncated` says so).
 */
diff: string | null, diff_truncated: boolean, last_changed_at_ms: number | null, };

export type Progress = { done: number, total: number, 
/**
 * The items, in the agent's order.
 */
items: Array<TodoItem>, 
/**
 * When the remaining items might be done, if work goes on at the pace so far. Only an
 * estimate; absent until at least one item is done.
 */
estimate: CompletionEstimate | null, };

export type CompletionEstimate = { 
/**
 * Always true: this value is an estimate.
 */
is_estimate: boolean, estimated_completion_ms: number, remaining_ms: number, 
/**
 * How it was computed, for people: "3 of 7 done in 6 min (2 min each)".
 */
basis: string, };

export type TodoItem = { id: string | null, content: string, status: TodoStatus, 
/**
 * The agent's present-tense label while in progress ("Running the tests").
 */
active_form: string | null, };

export type TodoStatus = "pending" | "in_progress" | "completed";

export type ThinkingView = { 
/**
 * The latest reasoning the agent wrote (its latest thinking block; cut at a size limit).
 */
current_reasoning: string | null, reasoning_at_ms: number | null, 
/**
 * What it plans next: its in-progress and pending todo items, in order.
 */
next_actions: Array<string>, 
/**
 * A few lines on where the session stands (task, work done, context size), or the
 * agent's own summary after a compaction.
 */
context_summary: string | null, 
/**
 * The points the latest reasoning weighs, when it lists them.
 */
decision_factors: Array<string>, };

export type TranscriptPage = { 
/**
 * The transcript file.
 */
path: string, 
/**
 * Byte offset of the first line returned.
 */
from: number, 
/**
 * Offset just after the last whole line returned: ask again with `after` = this for
 * what comes next.
 */
next: number, 
/**
 * The file's size when it was read.
 */
size: number, 
/**
 * Each line parsed as JSON; a line that is not JSON comes as a string.
 */
lines: Array<JsonValue>, };

export type TokenUsage = { input: number, output: number, cache_creation: number, cache_read: number, 
/**
 * The context size of the latest response (its input, cache read and cache creation).
 */
context: number, 
/**
 * The same counts per model, for pricing.
 */
by_model: Array<ModelUsage>, };

export type ModelUsage = { model: string, input: number, output: number, cache_creation: number, cache_read: number, };

export type Cost = { 
/**
 * Tokens × the price table, for the models it knows.
 */
estimated_usd: number, 
/**
 * Models whose tokens the price table does not price (not in `estimated_usd`).
 */
unpriced_models: Array<string>, 
/**
 * What the agent itself reported, when it writes its cost (Claude Code's `cost-state`).
 */
reported_usd: number | null, };

export type Turn = { 
/**
 * The turn's key and the cursor of pages: where its first line ends in the agent's file
 * (a byte offset). Later turns have larger keys; a key never changes as the file grows.
 */
index: number, 
/**
 * The user's prompt as typed (a slash command as `/name args`); `None` for a turn the
 * agent started itself (a sub-agent finished, the session resumed).
 */
prompt: string | null, 
/**
 * What happened, in order.
 */
items: Array<Item>, started_at_ms: number | null, 
/**
 * Time of the turn's latest record.
 */
last_at_ms: number | null, 
/**
 * Tokens of the turn's model responses, per model (each response counted once).
 */
tokens: Array<ModelUsage>, 
/**
 * The turn's cost estimated from the price table (0 when every model is unpriced).
 */
cost_usd: number, 
/**
 * Models the price table does not know (their tokens are not in `cost_usd`).
 */
unpriced_models: Array<string>, 
/**
 * The agent ended the turn with a question for the user (its last text ends with `?`):
 * the question's sentence.
 */
question: string | null, 
/**
 * Something in the page form of this turn was cut (a long output, a long text): ask for
 * the turn whole to see everything.
 */
cut: boolean, };

export type Item = { "kind": "text", text: string, } | { "kind": "thinking", text: string, } | { "kind": "tool" } & ToolCall | { "kind": "api_error", status: number | null, message: string, } | { "kind": "interrupted" } | { "kind": "compaction", 
/**
 * `manual` (`/compact`) or `auto`.
 */
trigger: string | null, tokens_before: number | null, } | { "kind": "notice", text: string, };

export type ToolCall = { 
/**
 * The agent's id of the call.
 */
id: string, tool: string, 
/**
 * One line saying what it does (the command, the file, the pattern).
 */
summary: string, 
/**
 * The input as the agent gave it.
 */
input: JsonValue, status: ToolStatus, 
/**
 * The result's text (cut in pages; see [`Turn::cut`]).
 */
output: string | null, 
/**
 * The result's length in characters, when `output` was cut.
 */
output_chars: number | null, duration_ms: number | null, 
/**
 * A file edit's unified diff (`@@` hunks, `+`/`-`/` ` lines), with its path.
 */
diff: FileDiff | null, 
/**
 * The questions the tool asks the user (Claude Code's AskUserQuestion), with the answers
 * once given.
 */
questions: Array<Question>, 
/**
 * A sub-agent's run (Claude Code's Agent/Task tool): what it did, grouped under the call.
 */
subagent: SubAgentRun | null, };

export type ToolStatus = "running" | "succeeded" | "failed";

export type FileDiff = { path: string, 
/**
 * The file did not exist before.
 */
created: boolean, diff: string, added: number, removed: number, };

export type Question = { question: string, 
/**
 * A short label for it ("Colour").
 */
header: string | null, options: Array<QuestionOption>, 
/**
 * Several options may be chosen (the answer joins them with ", ").
 */
multi_select: boolean, 
/**
 * The answer given, once given.
 */
answer: string | null, };

export type QuestionOption = { label: string, description: string | null, };

export type SubAgentRun = { 
/**
 * The agent's own id of the run.
 */
agent_id: string, 
/**
 * Its type (`general-purpose`, `Explore`, ...), when known.
 */
agent_type: string | null, description: string | null, 
/**
 * What it did, in order (its prompt is the call's input).
 */
items: Array<Item>, };

export type ConversationPage = { 
/**
 * `claude`, `codex`, `aider`.
 */
agent: string, 
/**
 * The newest turns before the cursor asked for, oldest first (the order they read in).
 */
turns: Array<Turn>, 
/**
 * The cursor of the page before this one (`before=` it); `None` on the first turns.
 */
older: number | null, 
/**
 * Turns in the whole session, once known: `None` while only the newest part of a long
 * file was read (older pages are read when asked for).
 */
total: number | null, };

export type HistoryEntry = { 
/**
 * The transcript file.
 */
path: string, 
/**
 * `claude`, `codex`, ...
 */
agent: string, session_id: string | null, 
/**
 * The folder the agent worked in.
 */
cwd: string | null, title: string | null, first_prompt: string | null, last_prompt: string | null, git_branch: string | null, model: string | null, tokens_in: number, tokens_out: number, tokens_cache_read: number, tokens_cache_write: number, 
/**
 * Computed from the price table; 0 for a model it lacks.
 */
cost_usd: number, 
/**
 * Prompts typed by the user.
 */
prompts: number, 
/**
 * Answers of the model.
 */
responses: number, 
/**
 * Milliseconds since the Unix epoch.
 */
started_ms: number | null, ended_ms: number | null, 
/**
 * Bytes of the transcript indexed.
 */
bytes: number, };

export type HistoryHit = { 
/**
 * The transcript file.
 */
path: string, session_id: string | null, title: string | null, cwd: string | null, 
/**
 * `user` or `assistant`.
 */
role: string, 
/**
 * Milliseconds since the Unix epoch.
 */
time_ms: number | null, 
/**
 * The matching text around the terms (`…` where it was cut); each matched term is
 * between U+0002 and U+0003, characters that never occur in the text (brackets would:
 * code is full of them). Render it as text, the marked parts highlighted.
 */
snippet: string, };

export type HistoryPage = { "kind": "sessions", sessions: Array<HistoryEntry>, 
/**
 * Ask again with `offset` = this for the next page; `null` on the last page.
 */
next_offset: number | null, } | { "kind": "hits", 
/**
 * The search as received.
 */
query: string, hits: Array<HistoryHit>, 
/**
 * Ask again with `offset` = this for the next page; `null` on the last page.
 */
next_offset: number | null, };

export type Event = { "type": "session_update", "payload": { session: SessionView, } } | { "type": "session_removed", "payload": { id: SessionId, } } | { "type": "process_update", "payload": { id: SessionId, cpu: number, rss: number, processes: number, } } | { "type": "system_alert", "payload": { component: ComponentHealth, } } | { "type": "log_entry", "payload": { level: string, message: string, } } | { "type": "thinking_update", "payload": { id: SessionId, insight: SessionInsight, } } | { "type": "conversation_update", "payload": { id: SessionId, turns: Array<Turn>, 
/**
 * Turns in the session, once known (see `ConversationPage::total`).
 */
total: number | null, reset: boolean, } } | { "type": "permission_update", "payload": { request: PermissionRequest, } } | { "type": "notify_settings_update", "payload": { paused: boolean, } };

export type DeviceId = string;

export type Role = "guest" | "viewer" | "operator" | "admin";

export type Permission = "sessions_list" | "read" | "input" | "control" | "admin";

export type DeviceView = { id: DeviceId, name: string, role: Role, 
/**
 * RFC 3339, UTC.
 */
created_at: string, 
/**
 * RFC 3339, UTC; the last authenticated request or message (updated at most once a minute).
 */
last_seen_at: string | null, 
/**
 * RFC 3339, UTC; set once the device was revoked: its tokens no longer work.
 */
revoked_at: string | null, };

export type PairingOffer = { 
/**
 * The endpoint's base URL, e.g. `https://192.168.1.20:7420`.
 */
url: string, 
/**
 * SHA-256 of the endpoint's certificate (DER), lowercase hex; clients pin it.
 */
fingerprint: string, 
/**
 * The one-time secret (base64url, 256 bits); single use.
 */
secret: string, 
/**
 * The same offer as a short code to type (`XXXX-XXXX`); single use.
 */
code: string, 
/**
 * What the QR code carries: `url` + `/#pair=` + secret + `&fp=` + fingerprint.
 */
pair_url: string, 
/**
 * The role the paired device will have.
 */
role: Role, 
/**
 * RFC 3339, UTC; after this the secret and the code are refused.
 */
expires_at: string, };

export type TokenGrant = { device_id: DeviceId, role: Role, 
/**
 * A signed token (JWT, HS256) for `Authorization: Bearer` and the WebSocket's `auth`.
 */
access_token: string, 
/**
 * RFC 3339, UTC.
 */
access_expires_at: string, 
/**
 * A long-lived secret that gets new access tokens from `/api/v1/auth/refresh` until the
 * device is revoked. Keep it like a password.
 */
refresh_token: string, };

export type AuditEntry = { id: number, 
/**
 * RFC 3339 with milliseconds, UTC.
 */
time: string, 
/**
 * `owner` (the local user, through the CLI), `device:<id>`, or the peer address of an
 * unauthenticated caller, e.g. `ip:192.168.1.7`.
 */
actor: string, device_id: DeviceId | null, 
/**
 * e.g. `session.signal`, `device.revoke`, `auth.denied`.
 */
action: string, target: string | null, 
/**
 * `ok`, `denied`, `unauthenticated`, `failed`, `rate_limited`.
 */
result: string, 
/**
 * A short explanation (the error message, the signal sent...).
 */
detail: string | null, };

export type ClientMessage = { "type": "auth", token: string, } | { "type": "subscribe" } | { "type": "unsubscribe" } | { "type": "attach", session: SessionId, offset: number | null, 
/**
 * Apply this size when attaching (operators only; ignored for viewers).
 */
size: Size | null, 
/**
 * Tolerate falling behind by up to the session's whole ring before being resynced
 * with a snapshot, instead of the interactive limit (1 MiB): for clients that must
 * see every byte (a log view, a recorder), not for a live terminal.
 */
lossless?: boolean, } | { "type": "detach", session: SessionId, } | { "type": "input", session: SessionId, data: string, } | { "type": "resize", session: SessionId, size: Size, } | { "type": "presence", visible: boolean, } | { "type": "ping", nonce: number | null, };

export type ServerMessage = { "type": "ready", protocol: number, device_id: DeviceId, role: Role, permissions: Array<Permission>, } | { "type": "resync", sessions: Array<SessionView>, } | { "type": "attached", session: SessionId, offset: number, snapshot: boolean, gap: boolean, size: Size, 
/**
 * Whether this socket may type into it.
 */
writable: boolean, } | { "type": "lagged", session: SessionId, from: number, to: number, } | { "type": "resized", session: SessionId, size: Size, } | { "type": "exited", session: SessionId, code: number | null, signal: string | null, } | { "type": "detached", session: SessionId, reason: string, } | { "type": "pong", nonce: number | null, } | { "type": "error", code: ApiErrorCode, message: string, session: SessionId | null, };

export type ApiErrorCode = "unauthorized" | "forbidden" | "origin_denied" | "not_found" | "bad_request" | "payload_too_large" | "rate_limited" | "pairing_failed" | "session_exited" | "session_running" | "already_decided" | "unsupported" | "unavailable" | "internal";

export type ErrorBody = { error: ErrorDetail, };

export type ErrorDetail = { code: ApiErrorCode, message: string, };

export type HealthReport = { status: HealthStatus, version: string, components: Array<ComponentHealth>, };

export type Me = { device: DeviceView, permissions: Array<Permission>, };

export type PairRequest = { 
/**
 * The secret from the QR code, or the short code.
 */
secret: string, 
/**
 * A name for this device, e.g. "Ana's phone".
 */
device_name: string, };

export type RefreshRequest = { refresh_token: string, };

export type CreatePairingRequest = { role: Role, 
/**
 * Seconds the offer lasts (default: server.pairing_ttl, at most a day).
 */
ttl_secs: number | null, };

export type InputRequest = { 
/**
 * Text to type (UTF-8; escape sequences allowed).
 */
data: string, 
/**
 * Press Enter after it.
 */
enter: boolean, };

export type SignalRequest = { signal: Signal, };

export type RenameRequest = { name: string, };

export type SystemMetrics = { endpoint: EndpointMetrics, sessions: number, running: number, 
/**
 * CPU of every session's process tree, percent of one core.
 */
sessions_cpu: number, 
/**
 * Resident memory of every session's process tree, bytes.
 */
sessions_rss: number, };

export type MessageRequest = { 
/**
 * Typed into the agent's prompt and submitted.
 */
text: string, 
/**
 * How long to wait for a sign that the agent took it, in milliseconds (default 5000).
 */
timeout_ms: number | null, 
/**
 * Type `text` exactly as given, then Enter (what `paddock send --enter` does).
 */
typed: boolean, };

export type DecideRequest = { decision: Decision, };

export type Done = { ok: boolean, };

export type StartSessionRequest = { 
/**
 * The program and its arguments, e.g. `["claude", "--model", "sonnet"]`.
 */
command: Array<string>, 
/**
 * A name to refer to the session by (default: the program's name, made unique).
 */
name?: string, 
/**
 * An absolute directory to start in (default: the supervisor's home directory).
 */
cwd?: string, 
/**
 * Environment variables set for the program.
 */
env?: { [key in string]?: string }, 
/**
 * The terminal's size (default 120×40; the first client to type sets its own).
 */
size?: Size, 
/**
 * Leave out Paddock's hooks for Claude Code and Codex.
 */
no_hooks?: boolean, 
/**
 * Keep the variables a parent Claude Code session left in the supervisor's environment
 * (CLAUDECODE, CLAUDE_CODE_*_FILE_DESCRIPTOR...); by default they are removed.
 */
keep_nested_env?: boolean, 
/**
 * A prompt: start a Claude Code background agent (`claude --bg PROMPT`, run by Claude's
 * own daemon, listed as `cbg-<id>`) in `cwd` instead of a program (give `command: []`).
 */
background?: string, 
/**
 * Start in a new git worktree of `cwd`'s repository: `""` (or `true`) for a new branch
 * named after the session, else the branch to check out (made when it does not exist).
 */
worktree?: string | boolean, };

export type LogRecord = { id: number, 
/**
 * RFC 3339, UTC.
 */
time: string, session: SessionId | null, 
/**
 * debug, info, warn or error.
 */
level: string, 
/**
 * A short machine-readable kind: `state`, `tool_use`, `permission_request`, ...
 */
kind: string, message: string, };

export type EndpointMetrics = { requests: number, client_errors: number, server_errors: number, rate_limited: number, 
/**
 * Share of the recent requests answered with 5xx.
 */
error_rate: number, 
/**
 * Response times of the last (up to) 4096 requests, microseconds.
 */
p50_us: number, p95_us: number, p99_us: number, };

export type NotificationKind = "permission" | "waiting_input" | "task_finished" | "exited_abnormally" | "errored" | "resource" | "custom" | "test";

export type NotificationAction = { 
/**
 * Stable within the notification: `allow`, `allow_always`, `deny`.
 */
key: string, 
/**
 * What the button says.
 */
label: string, 
/**
 * What pressing it answers.
 */
decision: Decision, 
/**
 * The channel may let the owner type a message with it (a deny's reason).
 */
takes_message: boolean, };

export type Notification = { 
/**
 * `n1`, `n2`, ... (unique while the supervisor runs; with the start time in the log).
 */
id: string, kind: NotificationKind, 
/**
 * The rule that made it (`permission`, `waiting_input`, `custom:<name>`, ...).
 */
rule: string, session: SessionId | null, 
/**
 * The session's name, for people.
 */
session_name: string | null, title: string, body: string, 
/**
 * Where a tap goes, relative to the UI (`/#/sessions/<id>`); channels make it absolute
 * with [`super::Outgoing::link_url`].
 */
link: string, 
/**
 * The permission request it asks about.
 */
request: string | null, 
/**
 * The tool and its one-line summary, for channels that lay them out themselves.
 */
tool: string | null, detail: string | null, actions: Array<NotificationAction>, 
/**
 * RFC 3339 UTC.
 */
created_at: string, state: NotificationState, };

export type NotificationState = { "state": "pending" } | { "state": "delivered" } | { "state": "answered", by: string, verb: string, at: string, } | { "state": "withdrawn", reason: string, at: string, };

export type DeliveryView = { notification: string, channel: string, status: DeliveryStatus, attempts: number, 
/**
 * The last error, in words.
 */
error: string | null, 
/**
 * From the notification's creation to the channel accepting it.
 */
latency_ms: number | null, };

export type DeliveryStatus = "waiting" | "delivered" | "failed" | "skipped" | "withdrawn";

export type WebPushSubscription = { 
/**
 * The push service URL to POST to.
 */
endpoint: string, keys: SubscriptionKeys, 
/**
 * The paired device it belongs to (filled in by the host, not the browser).
 */
device: string | null, 
/**
 * The device's name, for the log and "answered on ...".
 */
device_name: string | null, 
/**
 * RFC 3339 UTC; filled in by the host.
 */
created_at: string | null, };

export type SubscriptionKeys = { 
/**
 * The browser's P-256 public key (65 bytes uncompressed).
 */
p256dh: string, 
/**
 * The 16-byte authentication secret.
 */
auth: string, };

export type NotificationLog = { notifications: Array<Notification>, deliveries: Array<DeliveryView>, };

export type WebPushInfo = { 
/**
 * Whether Web Push is on (`[notify.web_push] enabled`, and its key usable).
 */
enabled: boolean, 
/**
 * The VAPID public key, base64url: `applicationServerKey` for `PushManager.subscribe`.
 */
public_key: string | null, 
/**
 * How many browsers are subscribed.
 */
subscriptions: number, };

export type ActRequest = { 
/**
 * The action token the notification carried.
 */
token: string, 
/**
 * A deny's reason, where the owner could type one.
 */
message: string | null, };

export type ActResponse = { request: PermissionRequest, by: string, };

export type QuietHours = { start: string, end: string, permissions_too: boolean, };

export type NotifySettings = { 
/**
 * Hold every notification (requests still wait in Paddock and can be answered there).
 */
paused: boolean, 
/**
 * The same rule for the same session notifies at most once in this many seconds.
 */
cooldown_secs: number, 
/**
 * Nothing but permission requests is sent between `start` and `end` (local `HH:MM`).
 */
quiet_hours: QuietHours | null, rules: RuleSettings, 
/**
 * Per paired device: which notifications its browsers get by Web Push. Devices not
 * listed get everything.
 */
devices: Array<DeviceRoute>, };

export type RuleSettings = { permission: boolean, waiting_input: boolean, long_task: boolean, 
/**
 * A task counts as long after this many seconds of work.
 */
long_task_after_secs: number, exited_abnormally: boolean, errored: boolean, resources: ResourceSettings, };

export type ResourceSettings = { enabled: boolean, 
/**
 * Percent of one core (a session) or of the machine (the host).
 */
cpu_percent: number, 
/**
 * Resident memory in MiB.
 */
memory_mib: number, 
/**
 * How many seconds a level must hold before it notifies.
 */
for_secs: number, };

export type DeviceRoute = { 
/**
 * The paired device's id.
 */
device: string, 
/**
 * Its name (filled in by the host; ignored when sent).
 */
name: string | null, push: PushRoute, };

export type PushRoute = "all" | "permissions" | "off";

export type ChannelStatus = { 
/**
 * `desktop`, `web_push`, `ntfy`, ...: the name `test/{channel}` takes.
 */
name: string, 
/**
 * Turned on in `config.toml`.
 */
configured: boolean, 
/**
 * Started and taking notifications.
 */
running: boolean, 
/**
 * Its entry on the health board, if any.
 */
health: HealthStatus | null, 
/**
 * What the health board or the host says about it, for a person.
 */
detail: string, };

export type NotifySettingsView = { settings: NotifySettings, channels: Array<ChannelStatus>, 
/**
 * `[notify] enabled`: off means nothing is sent whatever the settings say.
 */
enabled: boolean, 
/**
 * Where the settings are kept.
 */
config_file: string, };

export type GitStatus = { 
/**
 * The checked-out branch; null on a detached HEAD.
 */
branch: string | null, 
/**
 * The abbreviated commit at HEAD; null before the first commit.
 */
commit: string | null, 
/**
 * What `ahead` and `behind` count against: the branch's upstream, else the branch the
 * session's worktree was made from; null when there is neither.
 */
base: string | null, 
/**
 * Commits on HEAD that `base` lacks.
 */
ahead: number, 
/**
 * Commits on `base` that HEAD lacks.
 */
behind: number, 
/**
 * The worktree Paddock made for the session (`paddock run --worktree`), if it is in one.
 */
worktree: string | null, 
/**
 * Files changed against `base` (where HEAD left it) or, without a base, against HEAD:
 * committed, uncommitted and untracked. At most [`GitStatus::MAX_FILES`]; `files_changed`
 * counts them all.
 */
files: Array<ChangedFile>, files_changed: number, 
/**
 * Lines added and removed over all changed text files.
 */
insertions: number, deletions: number, 
/**
 * Files with changes not committed yet (untracked ones included).
 */
uncommitted: number, };

export type ChangedFile = { 
/**
 * Relative to the repository's top folder.
 */
path: string, 
/**
 * Lines added and removed; null for a binary file.
 */
insertions: number | null, deletions: number | null, 
/**
 * The change is not committed yet (or the file is untracked).
 */
uncommitted: boolean, };

export type ShellCapabilities = { 
/**
 * REST and WSS go through the shell's pinned client (`request`, `stream_*`).
 */
pinned_transport: boolean, 
/**
 * Whether this webview draws xterm.js' WebGL renderer reliably. Not WebKitGTK (Linux):
 * there the pane can stay blank (black) while the bytes arrive, so the terminal uses
 * the DOM renderer there.
 */
webgl_terminal: boolean, };

export type HostModeKind = "embedded" | "joined";

export type ThisHost = { mode: HostModeKind, 
/**
 * A sentence saying who runs the supervisor.
 */
description: string, 
/**
 * The supervisor's pid.
 */
pid: number, 
/**
 * The endpoint's URL, when it serves.
 */
url: string | null, 
/**
 * SHA-256 of the endpoint's certificate, which the app's client pins.
 */
fingerprint: string | null, };

export type StreamMessage = { "kind": "open" } | { "kind": "text", data: string, } | { "kind": "close", code: number, reason: string, };

export type RelayReply = { status: number, text: string, };

export type ShellError = { 
/**
 * A stable code the UI may branch on (the failing crate's own `code()`: `unreachable`,
 * `certificate_changed`, ...).
 */
code: string, 
/**
 * A sentence for a person: what happened, what to do next.
 */
message: string, };

/** Binary WebSocket frames (server to client): terminal data, never JSON.
 *  tag u8 | id_len u8 | session id (UTF-8) | offset u64 LE | rest
 *  tag 1 = output: rest is the bytes starting at `offset`.
 *  tag 3 = snapshot: rest is cols u16 LE, rows u16 LE, then ANSI bytes that redraw the screen
 *  as it was at `offset`. Resume by attaching with the end offset you have. */
export type TerminalFrame =
  | { kind: "output"; session: SessionId; offset: number; data: Uint8Array }
  | { kind: "snapshot"; session: SessionId; offset: number; size: Size; data: Uint8Array };

export function decodeTerminalFrame(buf: ArrayBuffer): TerminalFrame | null {
  const b = new Uint8Array(buf);
  if (b.length < 2) return null;
  const tag = b[0], len = b[1];
  if (b.length < 2 + len + 8) return null;
  const session = new TextDecoder().decode(b.subarray(2, 2 + len));
  const dv = new DataView(buf, 2 + len, 8);
  const offset = Number(dv.getBigUint64(0, true));
  const rest = b.subarray(2 + len + 8);
  if (tag === 1) return { kind: "output", session, offset, data: rest };
  if (tag === 3 && rest.length >= 4) {
    const sz = new DataView(rest.buffer, rest.byteOffset, 4);
    return { kind: "snapshot", session, offset, size: { cols: sz.getUint16(0, true), rows: sz.getUint16(2, true) }, data: rest.subarray(4) };
  }
  return null;
}
