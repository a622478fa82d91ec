//! Which agent a process runs, from its command line and executable.
//!
//! Called by [`Monitor::find_agents`](crate::Monitor::find_agents) for every process on the
//! machine, and usable on its own ([`classify`], [`classify_with`]). Pure functions: no I/O.
//!
//! Built-in rules, in order:
//! 1. The program (the file name of argv\[0\], or of the executable) is an agent's own name:
//!    `claude` (the native 2.x binary, or a Node CLI that set its process title to `claude`),
//!    `claude.exe` (the npm package's binary), `codex` (also `codex-<target triple>` release
//!    binaries), `gemini`, `aider`.
//! 2. The executable lives where an agent installs its binary: `…/claude/versions/<version>`
//!    (the native installer; argv\[0\] too, as that binary is named after its version),
//!    `…/@anthropic-ai/claude-code…`, `…/@openai/codex…`, `…/@google/gemini-cli…`.
//! 3. The program is an interpreter (`node`, `nodejs`, `bun`, `deno`, `python`, `python3`,
//!    `python3.12`, …) and the script it runs (its first argument that is not an option, or the
//!    module of `python -m`) is an agent's: a path inside `@anthropic-ai/claude-code`,
//!    `@openai/codex`, `@google/gemini-cli` or an `aider` package, or a file named after the
//!    agent (`/usr/local/bin/claude`, `bin/codex.js`, `bundle/gemini.js`, `~/.local/bin/aider`),
//!    or `-m aider`.
//!
//! Names are compared case-sensitively: on macOS `Claude` is the desktop app, not Claude Code.
//! Shells (`sh -c claude`) and launchers (`npm exec`, `npx`) are not agents themselves; the
//! agent they start is found as their child.
//!
//! Extra patterns ([`AgentPattern`]) are tried before the built-in rules, so a configured name
//! can also rename a built-in agent.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// The kind of agent a process runs. Serialized as a lower-case string: `"claude"`, `"codex"`,
/// `"gemini"`, `"aider"`, or the name of the [`AgentPattern`] that matched.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AgentKind {
    Claude,
    Codex,
    Gemini,
    Aider,
    /// An agent recognised by a configured pattern, by that pattern's name.
    Other(String),
}

impl AgentKind {
    /// The kind's name as it appears on the wire and in configuration.
    pub fn as_str(&self) -> &str {
        match self {
            AgentKind::Claude => "claude",
            AgentKind::Codex => "codex",
            AgentKind::Gemini => "gemini",
            AgentKind::Aider => "aider",
            AgentKind::Other(name) => name,
        }
    }

    /// The kind for a name: a built-in one for its own name, otherwise [`AgentKind::Other`].
    pub fn from_name(name: &str) -> Self {
        match name {
            "claude" => AgentKind::Claude,
            "codex" => AgentKind::Codex,
            "gemini" => AgentKind::Gemini,
            "aider" => AgentKind::Aider,
            other => AgentKind::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for AgentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AgentKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AgentKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(AgentKind::from_name(&name))
    }
}

/// A configured agent: `{ name = "opencode", pattern = "opencode" }`.
///
/// `pattern` is a glob that must match either the whole program name (the file name of
/// argv\[0\], or of the executable) or the whole command line (argv joined by single spaces).
/// In the glob, `*` matches any run of characters (spaces and `/` included), `?` matches one
/// character, `\` makes the next character literal, and every other character matches itself
/// (case-sensitively). Examples: `opencode` (a program), `*my-agent --serve*` (anywhere in
/// the command line), `python* */agents/run.py *` (a script under any interpreter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentPattern {
    /// The kind reported for a match; a built-in name (`claude`, …) gives that built-in kind.
    pub name: String,
    /// The glob, see the type's documentation.
    pub pattern: String,
}

impl AgentPattern {
    /// Whether this pattern matches a process with this command line and executable.
    pub fn matches(&self, cmd: &[String], exe: Option<&Path>) -> bool {
        if let Some(program) = cmd.first().map(|a| file_name(a)) {
            if glob_match(&self.pattern, program) {
                return true;
            }
        }
        if let Some(exe_name) = exe.and_then(|e| e.file_name()).and_then(|n| n.to_str()) {
            if glob_match(&self.pattern, strip_deleted(exe_name)) {
                return true;
            }
        }
        !cmd.is_empty() && glob_match(&self.pattern, &cmd.join(" "))
    }
}

/// The agent a process runs, by the built-in rules only (see the module documentation).
pub fn classify(cmd: &[String], exe: Option<&Path>) -> Option<AgentKind> {
    // A process that rewrote its title (Node's `process.title`) may show its whole command
    // line as one argument with spaces: read it as `ps` does.
    let split: Vec<String>;
    let cmd = if cmd.len() == 1 && cmd[0].contains(' ') && classify_argv(cmd, exe).is_none() {
        split = cmd[0].split_whitespace().map(str::to_owned).collect();
        &split[..]
    } else {
        cmd
    };
    classify_argv(cmd, exe)
}

/// The agent a process runs: the first extra pattern that matches, else the built-in rules.
pub fn classify_with(
    patterns: &[AgentPattern],
    cmd: &[String],
    exe: Option<&Path>,
) -> Option<AgentKind> {
    patterns
        .iter()
        .find(|p| p.matches(cmd, exe))
        .map(|p| AgentKind::from_name(&p.name))
        .or_else(|| classify(cmd, exe))
}

fn classify_argv(cmd: &[String], exe: Option<&Path>) -> Option<AgentKind> {
    let program = cmd.first().map(|a| file_name(a));
    if let Some(kind) = program.and_then(agent_by_program_name) {
        return Some(kind);
    }
    // The native installer's binary is named after its version: run by its full path,
    // only the path tells.
    if cmd.first().is_some_and(|a| a.contains(CLAUDE_VERSIONS_DIR)) {
        return Some(AgentKind::Claude);
    }
    let exe_str = exe.and_then(|e| e.to_str()).map(strip_deleted);
    if let Some(exe_str) = exe_str {
        if let Some(kind) = agent_by_program_name(file_name(exe_str)) {
            return Some(kind);
        }
        if let Some(kind) = agent_by_install_path(exe_str) {
            return Some(kind);
        }
    }
    // An interpreter, named by argv[0] or, when argv[0] was rewritten, by the executable.
    let interpreter = program
        .and_then(interpreter_kind)
        .or_else(|| exe_str.map(file_name).and_then(interpreter_kind))?;
    match script_of(interpreter, cmd.get(1..).unwrap_or(&[]))? {
        Script::Path(path) => agent_by_script(path),
        Script::Module(module) => {
            let top = module.split('.').next().unwrap_or(module);
            (top == "aider").then_some(AgentKind::Aider)
        }
    }
}

/// Where Claude Code's native installer puts its binaries (`~/.local/share/claude/versions/2.1.3`).
const CLAUDE_VERSIONS_DIR: &str = "/claude/versions/";

/// The built-in agent whose own executable has this file name.
fn agent_by_program_name(name: &str) -> Option<AgentKind> {
    match name {
        "claude" | "claude.exe" => Some(AgentKind::Claude),
        "codex" | "codex.exe" => Some(AgentKind::Codex),
        "gemini" => Some(AgentKind::Gemini),
        "aider" => Some(AgentKind::Aider),
        // Codex release binaries are named after their target: codex-x86_64-unknown-linux-musl.
        n if n.starts_with("codex-")
            && (n.contains("-unknown-") || n.contains("-apple-") || n.contains("-pc-windows")) =>
        {
            Some(AgentKind::Codex)
        }
        _ => None,
    }
}

/// The built-in agent that installs its executable at this path.
fn agent_by_install_path(path: &str) -> Option<AgentKind> {
    if path.contains(CLAUDE_VERSIONS_DIR) || path.contains("@anthropic-ai/claude-code") {
        Some(AgentKind::Claude)
    } else if path.contains("@openai/codex") {
        Some(AgentKind::Codex)
    } else if path.contains("@google/gemini-cli") {
        Some(AgentKind::Gemini)
    } else {
        None
    }
}

/// The built-in agent whose script (a JavaScript or Python file) this is.
fn agent_by_script(path: &str) -> Option<AgentKind> {
    if let Some(kind) = agent_by_install_path(path) {
        return Some(kind);
    }
    if path.contains("/aider-chat/") || path.contains("/site-packages/aider/") {
        return Some(AgentKind::Aider);
    }
    let name = file_name(path);
    let stem = [".js", ".mjs", ".cjs", ".py", ".exe"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(name);
    agent_by_program_name(stem)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Interpreter {
    Node,
    Deno,
    Python,
}

fn interpreter_kind(name: &str) -> Option<Interpreter> {
    match name {
        "node" | "nodejs" | "bun" => Some(Interpreter::Node),
        "deno" => Some(Interpreter::Deno),
        n if n.starts_with("python") || n.starts_with("pypy") => {
            let version = n.trim_start_matches("python").trim_start_matches("pypy");
            version
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.')
                .then_some(Interpreter::Python)
        }
        _ => None,
    }
}

enum Script<'a> {
    Path(&'a str),
    Module(&'a str),
}

/// The script an interpreter runs, given its arguments (argv without argv\[0\]).
fn script_of(interpreter: Interpreter, args: &[String]) -> Option<Script<'_>> {
    // Options that take the next argument as their value.
    let takes_value: &[&str] = match interpreter {
        Interpreter::Node => &[
            "-r",
            "--require",
            "--import",
            "--loader",
            "--experimental-loader",
            "--conditions",
            "-C",
            "--env-file",
            "--title",
            "--stack-size",
            "--max-old-space-size",
            "--inspect-port",
        ],
        Interpreter::Deno => &[
            "--config",
            "-c",
            "--import-map",
            "--lock",
            "--cert",
            "--location",
            "--v8-flags",
            "--env-file",
        ],
        Interpreter::Python => &["-W", "-X", "-Q"],
    };
    // Options after which no script file follows (code given inline).
    let inline: &[&str] = match interpreter {
        Interpreter::Node => &["-e", "--eval", "-p", "--print"],
        Interpreter::Deno => &["eval", "repl"],
        Interpreter::Python => &["-c"],
    };
    let mut args = args.iter().map(String::as_str);
    let mut first_positional = true;
    while let Some(arg) = args.next() {
        if inline.contains(&arg) {
            return None;
        }
        if interpreter == Interpreter::Python && arg == "-m" {
            return args.next().map(Script::Module);
        }
        if interpreter == Interpreter::Python && arg.starts_with("-m") && arg.len() > 2 {
            return Some(Script::Module(&arg[2..]));
        }
        if takes_value.contains(&arg) {
            args.next();
            continue;
        }
        if arg.starts_with('-') && arg != "-" {
            continue;
        }
        // `deno run [options] script`: the subcommand comes first.
        if interpreter == Interpreter::Deno && first_positional && arg == "run" {
            first_positional = false;
            continue;
        }
        return Some(Script::Path(arg));
    }
    None
}

/// The last component of a path (or the whole string when it has no `/`).
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Linux marks the executable of a process whose binary was replaced (an auto-update) with a
/// ` (deleted)` suffix.
fn strip_deleted(path: &str) -> &str {
    path.strip_suffix(" (deleted)").unwrap_or(path)
}

/// Whether `text` matches the whole glob `pattern` (`*`, `?`, `\` escapes; see
/// [`AgentPattern`]).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    #[derive(Clone, Copy)]
    enum Tok {
        Star,
        Any,
        Lit(char),
    }
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        toks.push(match c {
            '*' => Tok::Star,
            '?' => Tok::Any,
            '\\' => Tok::Lit(chars.next().unwrap_or('\\')),
            c => Tok::Lit(c),
        });
    }
    let text: Vec<char> = text.chars().collect();
    // Iterative matcher with one backtrack point (the last star): linear in practice.
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match toks.get(p) {
            Some(Tok::Star) => {
                star = Some((p, t));
                p += 1;
            }
            Some(Tok::Any) => {
                p += 1;
                t += 1;
            }
            Some(Tok::Lit(c)) if *c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    toks[p..].iter().all(|t| matches!(t, Tok::Star))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    fn kind(cmd: &str, exe: Option<&str>) -> Option<AgentKind> {
        let exe = exe.map(PathBuf::from);
        classify(&argv(cmd), exe.as_deref())
    }

    #[test]
    fn real_looking_command_lines_are_classified() {
        use AgentKind::*;
        let table: &[(&str, Option<&str>, Option<AgentKind>)] = &[
            // Claude Code: native 2.x binary from the installer, the npm package, old Node CLI.
            ("claude", Some("/home/u/.local/share/claude/versions/2.1.328"), Some(Claude)),
            ("claude --permission-mode manual", None, Some(Claude)),
            ("/home/u/.local/bin/claude -c", None, Some(Claude)),
            ("/home/u/.local/share/claude/versions/2.1.328 --resume", None, Some(Claude)),
            ("2.1.328", Some("/home/u/.local/share/claude/versions/2.1.328"), Some(Claude)),
            (
                "claude",
                Some("/usr/lib/node_modules/@anthropic-ai/claude-code/bin/claude.exe"),
                Some(Claude),
            ),
            ("x", Some("/home/u/.local/share/claude/versions/2.1.3 (deleted)"), Some(Claude)),
            ("node /usr/lib/node_modules/@anthropic-ai/claude-code/cli.js", None, Some(Claude)),
            ("node /usr/local/bin/claude --dangerously-skip-permissions", None, Some(Claude)),
            (
                "/usr/bin/node --max-old-space-size 8192 /opt/homebrew/lib/node_modules/@anthropic-ai/claude-code/cli.js",
                None,
                Some(Claude),
            ),
            ("node --no-warnings --enable-source-maps /home/u/.npm-global/bin/claude", None, Some(Claude)),
            ("bun /home/u/.bun/install/global/node_modules/@anthropic-ai/claude-code/cli.js", None, Some(Claude)),
            ("deno run -A npm:@anthropic-ai/claude-code", None, Some(Claude)),
            // Codex: node wrapper and the native binary it starts.
            ("node /usr/local/bin/codex", None, Some(Codex)),
            ("node /usr/lib/node_modules/@openai/codex/bin/codex.js exec hi", None, Some(Codex)),
            (
                "/usr/lib/node_modules/@openai/codex/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/codex/codex",
                None,
                Some(Codex),
            ),
            ("codex --full-auto", None, Some(Codex)),
            ("./codex-aarch64-apple-darwin", None, Some(Codex)),
            ("codex-x86_64-unknown-linux-musl resume", None, Some(Codex)),
            // Gemini CLI and its memory-raising relaunch.
            ("node /usr/local/bin/gemini", None, Some(Gemini)),
            (
                "/usr/bin/node --max-old-space-size=8192 /usr/lib/node_modules/@google/gemini-cli/bundle/gemini.js",
                None,
                Some(Gemini),
            ),
            ("gemini -m gemini-2.5-pro", None, Some(Gemini)),
            // Aider: pip, pipx and uv entry points, and -m.
            ("/usr/bin/python3 /home/u/.local/bin/aider --model sonnet", None, Some(Aider)),
            (
                "/home/u/.local/share/pipx/venvs/aider-chat/bin/python /home/u/.local/bin/aider",
                None,
                Some(Aider),
            ),
            ("python3.12 -m aider --no-git", None, Some(Aider)),
            ("python -X utf8 -m aider.main", None, Some(Aider)),
            ("aider --4o", None, Some(Aider)),
            // Not agents.
            ("vim claude.md", None, None),
            ("grep -r claude .", None, None),
            ("tmux new -s claude", None, None),
            ("sh -c claude", None, None),
            ("npm exec @anthropic-ai/claude-code", None, None),
            ("node /home/u/project/server.js", None, None),
            ("node -e require('claude')", None, None),
            ("python3 -c import aider", None, None),
            ("python3 aider_test.py", None, None),
            ("node /home/u/codex-helper.js", None, None),
            ("/Applications/Claude.app/Contents/MacOS/Claude", None, None),
            ("Claude Helper (Renderer)", None, None),
            ("pythonista app.py", None, None),
            ("", None, None),
            ("paddock __holder", Some("/usr/local/bin/paddock"), None),
        ];
        for (cmd, exe, want) in table {
            assert_eq!(&kind(cmd, *exe), want, "{cmd:?} exe {exe:?}");
        }
    }

    #[test]
    fn a_rewritten_title_with_spaces_is_read_as_arguments() {
        let cmd = vec!["node /usr/local/bin/claude --resume".to_owned()];
        assert_eq!(classify(&cmd, None), Some(AgentKind::Claude));
        let cmd = vec!["npm exec @anthropic-ai/claude-code".to_owned()];
        assert_eq!(classify(&cmd, None), None);
    }

    #[test]
    fn an_interpreter_is_recognised_by_its_executable_when_argv0_was_rewritten() {
        let cmd = argv("MainThread /usr/lib/node_modules/@google/gemini-cli/bundle/gemini.js");
        assert_eq!(
            classify(&cmd, Some(Path::new("/usr/bin/node"))),
            Some(AgentKind::Gemini)
        );
    }

    #[test]
    fn extra_patterns_match_program_or_command_line_and_come_first() {
        let patterns = vec![
            AgentPattern {
                name: "opencode".into(),
                pattern: "opencode".into(),
            },
            AgentPattern {
                name: "mine".into(),
                pattern: "python* */agents/run.py *".into(),
            },
            AgentPattern {
                name: "claude".into(),
                pattern: "*my-claude-wrapper*".into(),
            },
            AgentPattern {
                name: "cc".into(),
                pattern: "claude --model opus*".into(),
            },
        ];
        let k = |cmd: &str, exe: Option<&str>| {
            let exe = exe.map(PathBuf::from);
            classify_with(&patterns, &argv(cmd), exe.as_deref())
        };
        assert_eq!(
            k("/usr/local/bin/opencode serve", None),
            Some(AgentKind::Other("opencode".into()))
        );
        assert_eq!(
            k("x", Some("/opt/opencode")),
            Some(AgentKind::Other("opencode".into()))
        );
        assert_eq!(
            k("python3 /srv/agents/run.py --x", None),
            Some(AgentKind::Other("mine".into()))
        );
        assert_eq!(k("python3 /srv/agents/run.py", None), None);
        assert_eq!(
            k("bash /home/u/bin/my-claude-wrapper", None),
            Some(AgentKind::Claude)
        );
        assert_eq!(
            k("claude --model opus", None),
            Some(AgentKind::Other("cc".into()))
        );
        assert_eq!(k("claude --model sonnet", None), Some(AgentKind::Claude));
        assert_eq!(k("opencoder", None), None);
    }

    #[test]
    fn glob_semantics() {
        assert!(glob_match("abc", "abc"));
        assert!(!glob_match("abc", "abcd"));
        assert!(glob_match("a*", "a"));
        assert!(glob_match("a*c", "a/b c"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match("*b*b*", "abxxb"));
        assert!(!glob_match("*b*b*", "abxx"));
        assert!(glob_match(r"a\*", "a*"));
        assert!(!glob_match(r"a\*", "ab"));
        assert!(glob_match("*.js", "x.y.js"));
        assert!(!glob_match("", "x"));
        assert!(glob_match("é?", "éa"));
    }

    #[test]
    fn agent_kind_serializes_as_a_lowercase_string() {
        let kinds = vec![
            AgentKind::Claude,
            AgentKind::Codex,
            AgentKind::Gemini,
            AgentKind::Aider,
            AgentKind::Other("opencode".into()),
        ];
        let json = serde_json::to_string(&kinds).expect("serialize");
        assert_eq!(json, r#"["claude","codex","gemini","aider","opencode"]"#);
        let back: Vec<AgentKind> = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, kinds);
    }
}
