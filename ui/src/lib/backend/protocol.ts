/**
 * The socket's binary frames (terminal data), read in one place. JSON text frames are the
 * `ClientMessage` / `ServerMessage` / `Event` types of `types.ts`.
 *
 * A binary frame is `tag u8 | id_len u8 | session id | offset u64 LE | rest`: tag 1 is output
 * (rest = the bytes at `offset`), tag 3 a snapshot (rest = cols u16 LE, rows u16 LE, then ANSI
 * bytes that redraw the screen as it was at `offset`). (`paddock_proto::web::TerminalFrame`)
 */

export type TerminalFrame =
  | { kind: "output"; session: string; offset: number; bytes: Uint8Array }
  | {
      kind: "snapshot";
      session: string;
      offset: number;
      cols: number;
      rows: number;
      bytes: Uint8Array;
    };

const dec = new TextDecoder();

/** The frame, or null when it is truncated or of an unknown kind (then it is ignored). */
export function decodeTerminalFrame(buf: ArrayBuffer): TerminalFrame | null {
  if (buf.byteLength < 2) return null;
  const v = new DataView(buf);
  const tag = v.getUint8(0);
  const idLen = v.getUint8(1);
  let p = 2 + idLen;
  if (buf.byteLength < p + 8) return null;
  const session = dec.decode(new Uint8Array(buf, 2, idLen));
  const offset = Number(v.getBigUint64(p, true));
  p += 8;
  if (tag === 1) return { kind: "output", session, offset, bytes: new Uint8Array(buf, p) };
  if (tag === 3) {
    if (buf.byteLength < p + 4) return null;
    const cols = v.getUint16(p, true);
    const rows = v.getUint16(p + 2, true);
    return { kind: "snapshot", session, offset, cols, rows, bytes: new Uint8Array(buf, p + 4) };
  }
  return null;
}

/** Builds a frame the way the Rust encoder does (for tests). */
export function encodeTerminalFrame(f: TerminalFrame): ArrayBuffer {
  const id = new TextEncoder().encode(f.session);
  const extra = f.kind === "snapshot" ? 4 : 0;
  const out = new Uint8Array(2 + id.length + 8 + extra + f.bytes.length);
  const v = new DataView(out.buffer);
  out[0] = f.kind === "output" ? 1 : 3;
  out[1] = id.length;
  out.set(id, 2);
  let p = 2 + id.length;
  v.setBigUint64(p, BigInt(f.offset), true);
  p += 8;
  if (f.kind === "snapshot") {
    v.setUint16(p, f.cols, true);
    v.setUint16(p + 2, f.rows, true);
    p += 4;
  }
  out.set(f.bytes, p);
  return out.buffer;
}
