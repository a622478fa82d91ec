/** Errors from a host, as the UI shows them: the host's stable code and a sentence for people. */
import type { ApiErrorCode } from "./types";

/**
 * The host's codes, plus `unreachable` when no answer came at all, and `certificate_changed`
 * when the app's pinned client met another certificate than the one pinned at pairing.
 */
export type ErrorCode = ApiErrorCode | "unreachable" | "certificate_changed";

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: number = 0,
  ) {
    super(message);
  }
}

const FALLBACK: Partial<Record<ErrorCode, string>> = {
  unreachable:
    "The host did not answer. Check that `paddock up` runs there and that this device can reach it (same network or VPN), then try again.",
  unauthorized: "The host no longer accepts this device's token. Pair this device again.",
  forbidden: "Your device's role does not allow this. Ask the host's owner for a role that does.",
  not_found: "The host does not have this (it may have ended). Go back to the dashboard.",
  rate_limited: "Too many requests to the host. Wait a moment and try again.",
  internal: "The host failed to do this. Its log says why; try again.",
};

function codeFor(status: number): ErrorCode {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 413) return "payload_too_large";
  if (status === 429) return "rate_limited";
  if (status === 503) return "unavailable";
  if (status >= 500) return "internal";
  return "bad_request";
}

/** The error for an HTTP answer that was not ok (`{"error": {"code", "message"}}`). */
export function fromResponse(status: number, body: unknown): ApiError {
  const e = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = typeof e?.code === "string" ? (e.code as ErrorCode) : codeFor(status);
  const message =
    typeof e?.message === "string" && e.message
      ? sentence(e.message)
      : (FALLBACK[code] ?? `The host refused this (HTTP ${status}).`);
  return new ApiError(code, message, status);
}

/** The host's messages start lowercase and end without a stop; show them as sentences. */
function sentence(m: string): string {
  const s = m.charAt(0).toUpperCase() + m.slice(1);
  return /[.!?]$/.test(s) ? s : s + ".";
}

export function unreachable(): ApiError {
  return new ApiError("unreachable", FALLBACK.unreachable!);
}

export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
