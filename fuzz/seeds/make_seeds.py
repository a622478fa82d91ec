#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets (run from anywhere; rewrites the files).

frame_decoder seeds are: one config byte, the chunk-size schedule, then a stream of frames
(u32 LE length, tag, body), as fuzz_targets/frame_decoder.rs reads them.
control_message seeds are JSON control messages.
ws_client_message seeds are the WebSocket messages a browser or phone sends.
hook_payload seeds are the payloads of the real Claude Code's hooks (recorded in
crates/agents/tests/data and /work/shared/reference/samples, where that exists), Codex's
`notify` argument and Gemini CLI's hooks, in the shapes their parsers document.
transcript seeds are one config byte (bit 0: 0 Claude Code, 1 Codex; bits 1-2: turns read
first - 1) and a transcript file: the real agents' recordings, and a small Claude Code one
with what crosses turn boundaries.
config_file seeds are the README's config.toml examples and `paddock default-config`'s file.
"""
import json
import os
import re
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(REPO, "crates", "agents", "tests", "data")
SAMPLES = "/work/shared/reference/samples"


def frame(tag, body=b""):
    payload = bytes([tag]) + body
    return struct.pack("<I", len(payload)) + payload


def control(msg):
    return frame(0, json.dumps(msg, separators=(",", ":")).encode())


def output(offset, data):
    return frame(1, struct.pack("<Q", offset) + data)


def inp(data):
    return frame(2, data)


def snapshot(offset, cols, rows, data):
    return frame(3, struct.pack("<QHH", offset, cols, rows) + data)


def fd_input(stream, schedule=(0,), max_sel=0, repeat=False):
    """config byte: bits 0-1 limit selector, bit 2 repeat the stream past 80 KiB,
    bits 5-7 schedule length - 1."""
    assert 1 <= len(schedule) <= 8
    cfg = ((len(schedule) - 1) << 5) | (4 if repeat else 0) | max_sel
    return bytes([cfg]) + bytes(schedule) + stream


INFO = {
    "id": "abc123", "name": "build", "command": "bash", "args": ["-c", "exit 3"],
    "cwd": "/tmp", "pid": 4242, "holder_pid": 4241, "started_at": "2026-11-22T02:00:00Z",
    "size": {"cols": 80, "rows": 24}, "state": "exited", "exit_code": 3,
    "exited_at": "2026-11-22T02:00:01Z", "clients": 2, "restarts": 1, "output_end": 10,
}

MESSAGES = {
    "hello": {"type": "request", "id": 1, "payload": {
        "op": "hello", "version": 1, "mode": "read_write", "stream": True,
        "start": {"from": "offset", "offset": 99}, "size": {"cols": 80, "rows": 24},
        "lossless": True, "client_name": "attach"}},
    "hello_min": {"type": "request", "id": 1, "payload": {"op": "hello", "version": 1, "mode": "read_only"}},
    "info": {"type": "request", "id": 2, "payload": {"op": "info"}},
    "signal": {"type": "request", "id": 5, "payload": {"op": "signal", "signal": "INT"}},
    "resize": {"type": "request", "id": 6, "payload": {"op": "resize", "size": {"cols": 120, "rows": 40}}},
    "remove": {"type": "request", "id": 7, "payload": {"op": "remove", "force": True}},
    "unknown_op": {"type": "request", "id": 8, "payload": {"op": "teleport", "to": "mars"}},
    "resp_hello": {"type": "response", "id": 1, "payload": {
        "op": "hello", "version": 1, "client": 3, "session": INFO,
        "stream": {"kind": "snapshot", "offset": 10, "gap": True}}},
    "resp_ok": {"type": "response", "id": 9, "payload": {"op": "ok"}},
    "lagged": {"type": "notification", "payload": {"op": "lagged", "from": 1, "to": 2}},
    "exited": {"type": "notification", "payload": {"op": "exited", "signal": "KILL"}},
    "closing": {"type": "notification", "payload": {"op": "closing", "reason": "grace period over"}},
    "error": {"type": "error", "id": 4, "payload": {"code": "read_only", "message": "read-only client"}},
    "error_conn": {"type": "error", "payload": {"code": "bad_frame", "message": "bad"}},
}


WS = {
    "auth": {"type": "auth", "token": "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJkZXYifQ.c2ln"},
    "subscribe": {"type": "subscribe"},
    "unsubscribe": {"type": "unsubscribe"},
    "attach": {"type": "attach", "session": "abc123", "offset": 4096,
               "size": {"cols": 120, "rows": 40}, "lossless": True},
    "attach_min": {"type": "attach", "session": "k3x9q2mb"},
    "detach": {"type": "detach", "session": "abc123"},
    "input": {"type": "input", "session": "abc123", "data": "ls -la\r\u001b[A\u00e9"},
    "resize": {"type": "resize", "session": "abc123", "size": {"cols": 80, "rows": 24}},
    "presence": {"type": "presence", "visible": True},
    "ping": {"type": "ping", "nonce": 18446744073709551615},
    "ping_min": {"type": "ping"},
    "unknown": {"type": "teleport", "to": "mars"},
}

CODEX_NOTIFY = {
    "turn_complete": {"type": "agent-turn-complete", "thread-id": "0199a2b4-7c1e-7d30-9f2a-3b4c5d6e7f80",
                      "turn-id": "12", "cwd": "/home/dev/app", "input-messages": ["please make a file"],
                      "last-assistant-message": "Done, made.txt is there."},
    "other_type": {"type": "approval-requested", "thread-id": "t1"},
}

GEMINI_HOOKS = {
    "session_start": {"session_id": "g1", "transcript_path": "/home/dev/.gemini/tmp/x/chats/s.json",
                      "cwd": "/home/dev/app", "hook_event_name": "SessionStart", "source": "startup"},
    "before_agent": {"session_id": "g1", "hook_event_name": "BeforeAgent", "prompt": "fix the tests"},
    "before_tool": {"session_id": "g1", "hook_event_name": "BeforeTool", "tool_name": "run_shell_command",
                    "tool_input": {"command": "cargo test"}},
    "after_tool": {"session_id": "g1", "hook_event_name": "AfterTool", "tool_name": "write_file",
                   "tool_input": {"file_path": "a.txt", "content": "x"}, "tool_response": {"ok": True}},
    "after_agent": {"session_id": "g1", "hook_event_name": "AfterAgent", "prompt_response": "Done.",
                    "stop_hook_active": False},
    "tool_permission": {"hook_event_name": "Notification", "notification_type": "ToolPermission",
                        "message": "Allow?"},
    "session_end": {"session_id": "g1", "hook_event_name": "SessionEnd", "reason": "exit"},
}


def small_claude_transcript():
    """A few Claude Code turns with what crosses their boundaries: lines before the first
    prompt, a tool result written after the next prompt, a compaction, meta and side-chain
    lines, a line that is not JSON (as crates/agents/tests/conversation_tail.rs makes)."""
    ts = "2026-12-06T10:00:00.000Z"
    usage = {"input_tokens": 10, "output_tokens": 5}
    lines = [
        {"type": "summary", "summary": "earlier work"},
        {"type": "assistant", "timestamp": ts, "message": {"id": "m-head", "model": "claude-sonnet-4-5",
         "usage": usage, "content": [{"type": "text", "text": "Resuming."}]}},
        {"type": "user", "timestamp": ts, "message": {"content": "Step 1: make the tests pass"}},
        {"type": "assistant", "timestamp": ts, "message": {"id": "m1", "model": "claude-sonnet-4-5",
         "usage": usage, "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash",
                                      "input": {"command": "cargo test"}}]}},
        {"type": "user", "isMeta": True, "message": {"content": "<system-reminder>meta</system-reminder>"}},
        {"type": "user", "timestamp": ts, "message": {"content": [{"type": "text", "text": "Step 2: look"},
                                                                  {"type": "image"}]}},
        {"type": "user", "timestamp": ts, "message": {"content": [{"type": "tool_result",
         "tool_use_id": "toolu_1", "content": "test result: ok"}]}},
        {"type": "user", "isSidechain": True, "message": {"content": "a sub-agent's prompt"}},
        {"type": "user", "timestamp": ts, "message": {"content":
         "<command-name>/compact</command-name>\n<command-message>compact</command-message>\n<command-args></command-args>"}},
        {"type": "user", "timestamp": ts, "message": {"role": "user", "content":
         "<task-notification><summary>Agent 3 finished</summary></task-notification>"}},
        ["not", "an", "object"],
        {"type": "user", "timestamp": ts, "message": {"content": "Step 3: again"}},
        {"type": "assistant", "timestamp": ts, "message": {"id": "m3", "model": "claude-sonnet-4-5",
         "usage": usage, "content": [{"type": "text", "text": "All green."}]}},
    ]
    out = "".join(json.dumps(v, separators=(",", ":")) + "\n" for v in lines)
    return (out + "not json at all\n").encode()


def config_examples():
    """The README's ```toml blocks (list items' indentation removed) and the default file."""
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    blocks = re.findall(r"^( *)```toml\n(.*?)^ *```", readme, re.S | re.M)
    out = {}
    for i, (indent, body) in enumerate(blocks):
        lines = [l[len(indent):] if l.startswith(indent) else l for l in body.splitlines()]
        out["readme_%d.toml" % (i + 1)] = ("\n".join(lines) + "\n").encode()
    with open(os.path.join(REPO, "crates", "core", "src", "config.rs"), encoding="utf-8") as f:
        src = f.read()
    m = re.search(r'DEFAULT_CONFIG_TOML: &str = r#"(.*?)"#;', src, re.S)
    if m:
        out["default_config.toml"] = m.group(1).encode()
    out["not_a_setting.toml"] = b'sample_interval = "1s"\nno_such_setting = 3\n'
    out["wrong_type.toml"] = b'[server]\nport = "seven"\n'
    return out


def write(target, name, data):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    for name, msg in MESSAGES.items():
        write("control_message", name + ".json", json.dumps(msg, separators=(",", ":")).encode())

    fd = {
        "control_hello": fd_input(control(MESSAGES["hello"])),
        "control_resp_hello": fd_input(control(MESSAGES["resp_hello"]), schedule=(17,)),
        "control_error": fd_input(control(MESSAGES["error_conn"])),
        "output": fd_input(output(2**64 - 4, b"\x1b[31mred\x1b[0m\r\n")),
        "output_empty": fd_input(output(0, b"")),
        "input": fd_input(inp(b"ls\r")),
        "snapshot": fd_input(snapshot(42, 200, 50, b"\x1b[H\x1b[2Jhello")),
        # Every kind in one stream, fed 1, 3, 0 (empty extend) and 7 bytes at a time.
        "mixed_chunked": fd_input(
            control(MESSAGES["info"]) + output(5, b"abc") + inp(b"\x00\xff\x03")
            + snapshot(8, 80, 24, b"\x1b[Hx") + control(MESSAGES["lagged"]) + output(9, b"d"),
            schedule=(1, 3, 0, 7),
        ),
        # The same, repeated past 80 KiB in 200-byte reads: reaches the buffer compaction.
        "mixed_repeated": fd_input(
            control(MESSAGES["info"]) + output(5, b"abc") + inp(b"\x00\xff\x03")
            + snapshot(8, 80, 24, b"\x1b[Hx"),
            schedule=(200,), repeat=True,
        ),
        # A length over a limit of 64 bytes, after a good frame.
        "too_large": fd_input(inp(b"ok") + struct.pack("<I", 65) + b"\x02", max_sel=2),
        # A frame cut short at the end of the stream.
        "truncated_tail": fd_input(output(1, b"xy") + output(3, b"zzzz")[:-2], schedule=(2,)),
    }
    for name, data in fd.items():
        write("frame_decoder", name, data)

    for name, msg in WS.items():
        write("ws_client_message", name + ".json", json.dumps(msg, separators=(",", ":")).encode())

    hooks = {}
    for d in (DATA, SAMPLES):
        rec = os.path.join(d, "claude-hooks-2.1.328.json")
        if os.path.exists(rec):
            with open(rec, encoding="utf-8") as f:
                for p in json.load(f):
                    hooks["claude_%s.json" % p["hook_event_name"]] = p
    for name, p in CODEX_NOTIFY.items():
        hooks["codex_%s.json" % name] = p
    for name, p in GEMINI_HOOKS.items():
        hooks["gemini_%s.json" % name] = p
    for name, p in hooks.items():
        write("hook_payload", name, json.dumps(p, indent=1).encode())

    transcripts = {
        "claude_recorded": (0b000, os.path.join(DATA, "claude-transcript-2.1.328.jsonl")),
        "claude_recorded_4": (0b110, os.path.join(DATA, "claude-transcript-2.1.328.jsonl")),
        "codex_rollout": (0b001, os.path.join(DATA, "codex-rollout-synthetic.jsonl")),
    }
    for name, (cfg, path) in transcripts.items():
        with open(path, "rb") as f:
            write("transcript", name, bytes([cfg]) + f.read())
    write("transcript", "claude_boundaries", bytes([0b000]) + small_claude_transcript())
    write("transcript", "claude_boundaries_2", bytes([0b010]) + small_claude_transcript())

    for name, data in config_examples().items():
        write("config_file", name, data)


if __name__ == "__main__":
    main()
