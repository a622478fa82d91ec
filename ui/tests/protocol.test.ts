import { describe, expect, it } from "vitest";
import { decodeTerminalFrame, encodeTerminalFrame } from "../src/lib/backend/protocol";

describe("terminal frames", () => {
  it("decode output and snapshot frames laid out as the Rust encoder writes them", () => {
    // Bytes written by hand from paddock_proto::web::TerminalFrame::encode's layout.
    const raw = new Uint8Array([1, 2, 0x61, 0x62, 5, 0, 0, 0, 0, 0, 0, 0, 0x68, 0x69]);
    expect(decodeTerminalFrame(raw.buffer)).toEqual({
      kind: "output",
      session: "ab",
      offset: 5,
      bytes: new Uint8Array([0x68, 0x69]),
    });
    const snap = encodeTerminalFrame({
      kind: "snapshot",
      session: "tmux-default-3",
      offset: 2 ** 40,
      cols: 200,
      rows: 50,
      bytes: new TextEncoder().encode("\x1b[H"),
    });
    const f = decodeTerminalFrame(snap);
    expect(f).toMatchObject({
      kind: "snapshot",
      session: "tmux-default-3",
      offset: 2 ** 40,
      cols: 200,
      rows: 50,
    });
  });

  it("ignores truncated frames and unknown tags", () => {
    const full = new Uint8Array(
      encodeTerminalFrame({ kind: "output", session: "s", offset: 1, bytes: new Uint8Array() }),
    );
    for (let cut = 0; cut < full.length; cut++) {
      expect(decodeTerminalFrame(full.slice(0, cut).buffer)).toBeNull();
    }
    const unknown = full.slice();
    unknown[0] = 9;
    expect(decodeTerminalFrame(unknown.buffer)).toBeNull();
  });
});
