//! What the recorder does with each agent: one list of scenarios per agent, each a scripted
//! fake API and the keys a person would press. Adding an agent is one more [`Agent`] with
//! its sandbox in `record.rs` and one more list here.

use paddock_fakeapi::{Reply, Script, When};
use serde_json::json;
use std::path::Path;

/// The agents the recorder drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agent {
    Claude,
    Codex,
    Gemini,
}

impl Agent {
    pub const ALL: &'static [Agent] = &[Agent::Claude, Agent::Codex, Agent::Gemini];

    /// Paddock's name for it (the adapter's).
    pub fn name(self) -> &'static str {
        match self {
            Agent::Claude => "claude",
            Agent::Codex => "codex",
            Agent::Gemini => "gemini",
        }
    }

    pub fn parse(name: &str) -> Option<Agent> {
        Self::ALL.iter().copied().find(|a| a.name() == name)
    }

    /// How a person leaves it, at its prompt.
    pub fn exit_steps(self) -> Vec<Step> {
        match self {
            Agent::Claude => vec![
                Step::Type("/exit"),
                Step::Pause(400),
                Step::Key("Enter", b"\r"),
                Step::Exit,
            ],
            Agent::Codex | Agent::Gemini => vec![
                Step::Key("Ctrl-C", b"\x03"),
                Step::Pause(300),
                Step::Key("Ctrl-C", b"\x03"),
                Step::Exit,
            ],
        }
    }
}

/// One thing the recorder does, in order.
#[derive(Debug, Clone)]
pub enum Step {
    /// Wait (up to 30 s) until a screen row contains this text.
    Screen(&'static str),
    /// Wait (up to 30 s) for a new OSC 7501 report of one of these states (`done|idle`).
    Report(&'static str),
    /// Let the screen stay as it is for this many milliseconds (what is being measured).
    Pause(u64),
    /// Type text, a few characters at a time.
    Type(&'static str),
    /// Press a key: (its name, its bytes).
    Key(&'static str, &'static [u8]),
    /// Wait (up to 15 s) for the process to end.
    Exit,
}

pub struct Scenario {
    pub name: &'static str,
    pub script: Script,
    /// Arguments after the agent's command.
    pub args: Vec<String>,
    /// Prepares the project folder.
    pub setup: fn(&Path) -> std::io::Result<()>,
    pub steps: Vec<Step>,
}

const LONG_MESSAGE: &str = "please read every file in this project, then write a short summary of \
what each one does, which parts look unfinished, and a plan of three steps to finish them, \
keeping the answer under two hundred words";

const LONG_ANSWER: &str = "Here is a long answer, streamed slowly so that the screen shows the \
agent at work for several seconds. It goes on about nothing in particular: the weather in the \
paddock, the horses grazing by the fence, the gate that squeaks, the water trough that needs \
cleaning, the hay that came on Tuesday, and the farrier who is due next week. That is all.";

const THINKING: &str = "Let me think about this carefully, one step after another, weighing \
each option before I answer, since the question deserves a considered reply and not a quick \
one, and there are several ways to look at it that I should compare first.";

fn nothing(_: &Path) -> std::io::Result<()> {
    Ok(())
}

fn a_file(project: &Path) -> std::io::Result<()> {
    std::fs::write(project.join("notes.txt"), "first line\nsecond line\n")
}

/// The agent is at its prompt, ready for input.
fn ready(agent: Agent) -> Step {
    match agent {
        Agent::Claude => Step::Report("idle"),
        Agent::Codex => Step::Screen("gpt-fake"),
        Agent::Gemini => Step::Screen("Type your message"),
    }
}

/// Empties Claude Code's input box of [`LONG_MESSAGE`] (two rows at 120 columns) the way a
/// person does, one Ctrl-U per row.
fn clear_input() -> Vec<Step> {
    (0..3)
        .flat_map(|_| [Step::Key("Ctrl-U", b"\x15"), Step::Pause(200)])
        .collect()
}

/// Types `text`, waits for it on the screen, then presses Enter (both agents take a fast
/// Enter right after the text as part of a paste).
fn say(text: &'static str, shown: &'static str) -> Vec<Step> {
    vec![
        Step::Type(text),
        Step::Screen(shown),
        Step::Pause(300),
        Step::Key("Enter", b"\r"),
    ]
}

/// One message: the agent ready, `typed` said (and shown as typed), then `after`.
fn turn(agent: Agent, typed: &'static str, after: Vec<Step>) -> Vec<Vec<Step>> {
    vec![vec![ready(agent)], say(typed, typed), after]
}

/// What follows a turn that ends by itself: its end reported, then a still screen.
fn done() -> Vec<Step> {
    vec![Step::Report("done|idle"), Step::Pause(2000)]
}

fn scenario(
    name: &'static str,
    script: Script,
    setup: fn(&Path) -> std::io::Result<()>,
    steps: Vec<Vec<Step>>,
) -> Scenario {
    Scenario {
        name,
        script,
        args: Vec::new(),
        setup,
        steps: steps.into_iter().flatten().collect(),
    }
}

/// The agent idle, a long message typed, then erased with `clear`.
fn idle_and_typing(agent: Agent, script: Script, clear: Vec<Step>) -> Scenario {
    scenario(
        "idle-and-typing",
        script,
        nothing,
        vec![
            vec![ready(agent), Step::Pause(3000), Step::Type(LONG_MESSAGE)],
            vec![Step::Pause(3000)],
            clear,
            vec![Step::Pause(1500)],
        ],
    )
}

/// A slow answer that thinks first.
fn thinking(agent: Agent) -> Scenario {
    scenario(
        "thinking",
        Script::new().then(
            Reply::text(LONG_ANSWER)
                .with_thinking(THINKING)
                .pace_ms(250)
                .when(When::UserSays("think it over".into())),
        ),
        nothing,
        turn(agent, "think it over", done()),
    )
}

/// The API refuses the turn with `error` (not to be retried).
fn api_error(agent: Agent, error: Reply) -> Scenario {
    scenario(
        "api-error",
        Script::new().then(error.when(When::UserSays("are you there".into()))),
        nothing,
        turn(
            agent,
            "are you there?",
            vec![Step::Report("done|idle|error"), Step::Pause(3000)],
        ),
    )
}

/// A turn that never ends by itself, interrupted with Esc.
fn interrupt(agent: Agent) -> Scenario {
    scenario(
        "interrupt",
        Script::new().then(
            Reply::text("This will take a long while.")
                .gate("never")
                .when(When::UserSays("start the long job".into())),
        ),
        nothing,
        turn(
            agent,
            "start the long job",
            vec![
                Step::Report("working"),
                Step::Pause(3000),
                Step::Key("Esc", b"\x1b"),
                Step::Pause(3000),
            ],
        ),
    )
}

/// "please make a file": the model answers with `tool`, the agent asks `asked.0` and is
/// answered with the key `asked.1` (after a pause), then `after`.
fn make_a_file(
    agent: Agent,
    name: &'static str,
    script: Script,
    tool: Reply,
    asked: (&'static str, Step),
    after: Vec<Step>,
) -> Scenario {
    let (question, key) = asked;
    scenario(
        name,
        script
            .then(tool.when(When::UserSays("please make a file".into())))
            .then(Reply::text("Done, made.txt is there.").when(When::ToolResult)),
        nothing,
        turn(
            agent,
            "please make a file",
            [vec![Step::Screen(question), Step::Pause(2500), key], after].concat(),
        ),
    )
}

/// The scenarios of one agent.
pub fn of(agent: Agent) -> Vec<Scenario> {
    match agent {
        Agent::Claude => claude(),
        Agent::Codex => codex(),
        Agent::Gemini => gemini(),
    }
}

fn claude() -> Vec<Scenario> {
    let a = Agent::Claude;
    // A tool asked for once `typed` is said: `asked` shows, and Enter (after a pause) picks
    // the first answer. 2.1.x defaults to `auto` mode, which runs these tools without
    // asking: the manual mode (`default`) shows the permission prompt a person answers.
    let approved = |name, typed, script, setup, asked, manual: bool| {
        let mut s = scenario(
            name,
            script,
            setup,
            vec![
                vec![ready(a)],
                say(typed, typed),
                vec![asked, Step::Pause(2500), Step::Key("Enter", b"\r")],
                done(),
            ],
        );
        if manual {
            s.args = ["--permission-mode", "manual"].map(str::to_owned).to_vec();
        }
        s
    };
    vec![
        // Ctrl-U deletes one row of the wrapped message: as many as it wraps onto.
        idle_and_typing(a, Script::new(), clear_input()),
        thinking(a),
        approved(
            "bash-permission-and-tool",
            "wait five seconds",
            Script::new()
                .then(
                    Reply::tool_use(
                        "Bash",
                        json!({"command": "sleep 5; echo slept > slept.txt", "description": "Wait five seconds"}),
                    )
                    .when(When::UserSays("wait five seconds".into())),
                )
                .then(Reply::text("Waited.").when(When::ToolResult)),
            nothing,
            Step::Report("blocked"),
            true,
        ),
        approved(
            "write-permission",
            "make a file",
            Script::new()
                .then(
                    Reply::tool_use(
                        "Write",
                        json!({"file_path": "made.txt", "content": "made by the agent\n"}),
                    )
                    .when(When::UserSays("make a file".into())),
                )
                .then(Reply::text("Made it.").when(When::ToolResult)),
            nothing,
            Step::Report("blocked"),
            true,
        ),
        approved(
            "edit-permission",
            "fix the notes",
            Script::new()
                .then(
                    Reply::tool_use("Read", json!({"file_path": "notes.txt"}))
                        .when(When::UserSays("fix the notes".into())),
                )
                .then(
                    Reply::tool_use(
                        "Edit",
                        json!({"file_path": "notes.txt", "old_string": "second line",
                               "new_string": "second line, edited"}),
                    )
                    .when(When::ToolResult),
                )
                .then(Reply::text("Edited.").when(When::ToolResult)),
            a_file,
            Step::Report("blocked"),
            true,
        ),
        approved(
            "question",
            "pick a database",
            Script::new()
                .then(
                    Reply::tool_use(
                        "AskUserQuestion",
                        json!({"questions": [{
                            "question": "Which database should I use?",
                            "header": "Database",
                            "multiSelect": false,
                            "options": [
                                {"label": "SQLite", "description": "A file, no server"},
                                {"label": "Postgres", "description": "A server"}
                            ]
                        }]}),
                    )
                    .when(When::UserSays("pick a database".into())),
                )
                .then(Reply::text("SQLite it is.").when(When::ToolResult)),
            nothing,
            Step::Screen("Which database should I use?"),
            false,
        ),
        api_error(
            a,
            Reply::error(529, "overloaded_error", "Overloaded").should_retry(false),
        ),
        interrupt(a),
    ]
}

fn codex() -> Vec<Scenario> {
    let a = Agent::Codex;
    let ask = |mut s: Scenario| {
        s.args = [
            "-c",
            "approval_policy=on-request",
            "-c",
            "sandbox_mode=read-only",
        ]
        .map(str::to_owned)
        .to_vec();
        s
    };
    vec![
        idle_and_typing(a, Script::new(), vec![Step::Key("Ctrl-U", b"\x15")]),
        thinking(a),
        scenario(
            "tool-running",
            Script::new()
                .then(
                    Reply::tool_use("exec_command", json!({"cmd": "sleep 5; echo slept"}))
                        .when(When::UserSays("wait five seconds".into())),
                )
                .then(Reply::text("Waited.").when(When::ToolResult)),
            nothing,
            turn(a, "wait five seconds", done()),
        ),
        ask(make_a_file(
            a,
            "command-approval",
            Script::new(),
            Reply::tool_use(
                "exec_command",
                json!({"cmd": "echo approved > made.txt",
                       "sandbox_permissions": "require_escalated",
                       "justification": "Write made.txt in the project?"}),
            ),
            (
                "Would you like to run the following command?",
                Step::Key("y", b"y"),
            ),
            done(),
        )),
        api_error(
            a,
            Reply::error(500, "server_error", "The server had an error").should_retry(false),
        ),
        interrupt(a),
        scenario(
            "slash-and-shell",
            Script::new(),
            nothing,
            vec![
                vec![ready(a)],
                say("/status", "/status"),
                vec![Step::Pause(2000)],
                // `!` switches the box to shell mode ("! echo hi").
                say("!echo hi", "echo hi"),
                done(),
            ],
        ),
    ]
}

/// Gemini CLI's routing side request (`:generateContent`, no tools) wants JSON back and
/// retries, with growing pauses, on anything else; `{}` keeps its default model.
fn gemini_script() -> Script {
    Script::new().fallback(Reply::text("{}").times(0))
}

fn gemini() -> Vec<Scenario> {
    let a = Agent::Gemini;
    let command = "echo approved > made.txt";
    vec![
        idle_and_typing(a, gemini_script(), vec![Step::Key("Ctrl-U", b"\x15")]),
        scenario(
            "answered",
            gemini_script().then(
                Reply::text(LONG_ANSWER)
                    .pace_ms(250)
                    .when(When::UserSays("tell me about the paddock".into())),
            ),
            nothing,
            turn(
                a,
                "tell me about the paddock",
                vec![Step::Screen("That is all."), Step::Pause(3000)],
            ),
        ),
        make_a_file(
            a,
            "shell-permission",
            gemini_script(),
            Reply::text("I will make the file.").with_tool_use(
                "run_shell_command",
                json!({"command": command, "description": "Make made.txt"}),
            ),
            ("Allow execution of", Step::Key("Enter", b"\r")),
            vec![Step::Screen("made.txt is there"), Step::Pause(3000)],
        ),
        scenario(
            "api-error",
            gemini_script().then(
                Reply::error(400, "INVALID_ARGUMENT", "The request was refused")
                    .when(When::UserSays("are you there".into())),
            ),
            nothing,
            // No `?`: typed into an empty box it opens the shortcuts help.
            turn(a, "are you there", vec![Step::Pause(6000)]),
        ),
    ]
}
