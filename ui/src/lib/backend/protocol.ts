/**
 * The socket's messages, built and read in one place: JSON text frames for control and
 * events, binary frames for terminal output.
 */
import type { ServerEvent } from "./types";

export const EVENT_TYPES = [
  "session_update",
  "session_removed",
  "process_update",
  "system_alert",
  "log_entry",
  "thinking_update",
] as const;

export type ClientMessage =
  | { type: "auth"; token: string }
  | { type: "subscribe"; events: readonly string[] }
  | { type: "attach"; session: string; offset: number | null; cols: number; rows: number }
  | { type: "detach"; session: string }
  | { type: "input"; session: string; data: string }
  | { type: "resize"; session: string; cols: number; rows: number }
  | { type: "ping" };

export type ServerMessage =
  | ServerEvent
  | { type: "auth_ok"; payload?: { role?: string; device_id?: string } }
  | { type: "error"; payload: { code: string; message: string; session?: string } }
  | { type: "detached"; payload: { session: string; reason?: string } }
  | { type: "pong" };

export type TerminalFrame =
  | { kind: "output"; session: string; offset: number; bytes: Uint8Array }
  | { kind: "snapshot"; session: string; offset: number; gap: boolean; bytes: Uint8Array };

/**
 * Binary frame: u8 kind (1 output, 3 snapshot), u8 session id length, the id (ASCII),
 * u64 LE offset, then for a snapshot u8 gap flag; then the bytes.
 */
export function decodeTerminalFrame(buf: ArrayBuffer): TerminalFrame | null {
  const v = new DataView(buf);
  if (buf.byteLength < 2) return null;
  const kind = v.getUint8(0);
  const idLen = v.getUint8(1);
  let p = 2 + idLen;
  if (buf.byteLength < p + 8) return null;
  const session = new TextDecoder().decode(new Uint8Array(buf, 2, idLen));
  const offset = Number(v.getBigUint64(p, true));
  p += 8;
  if (kind === 1) return { kind: "output", session, offset, bytes: new Uint8Array(buf, p) };
  if (kind === 3) {
    if (buf.byteLength < p + 1) return null;
    const gap = v.getUint8(p) !== 0;
    return { kind: "snapshot", session, offset, gap, bytes: new Uint8Array(buf, p + 1) };
  }
  return null;
}

export function encodeInput(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
