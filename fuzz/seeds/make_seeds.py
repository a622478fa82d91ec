#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets (run from anywhere; rewrites the files).

frame_decoder seeds are: one config byte, the chunk-size schedule, then a stream of frames
(u32 LE length, tag, body), as fuzz_targets/frame_decoder.rs reads them.
control_message seeds are JSON control messages.
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


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


if __name__ == "__main__":
    main()
