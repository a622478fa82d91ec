/** Errors from a host, as the UI shows them: a stable code and a sentence for people. */

export type ErrorCode =
  | "unreachable"
  | "unauthorized"
  | "revoked"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "rate_limited"
  | "bad_request"
  | "server"
  | (string & {});

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: number = 0,
  ) {
    super(message);
  }
}

const FALLBACK: Record<string, string> = {
  unreachable:
    "The host did not answer. Check that `paddock up` runs there and that this device can reach it (same network or VPN), then try again.",
  unauthorized: "The host no longer accepts this device's token. Pair this device again.",
  revoked: "This device was revoked on the host. Pair it again if that was a mistake.",
  forbidden: "Your device's role does not allow this. Ask the host's owner for a role that does.",
  not_found: "The host no longer has this. It may have ended; go back to the dashboard.",
  rate_limited: "Too many requests to the host. Wait a moment and try again.",
  server: "The host failed to do this. Its log (System → Logs) says why; try again.",
};

/** Builds the error for an HTTP answer that was not ok. */
export function fromResponse(status: number, body: unknown): ApiError {
  const e = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  let code: ErrorCode =
    typeof e?.code === "string"
      ? e.code
      : status === 401
        ? "unauthorized"
        : status === 403
          ? "forbidden"
          : status === 404
            ? "not_found"
            : status === 409
              ? "conflict"
              : status === 429
                ? "rate_limited"
                : status >= 500
                  ? "server"
                  : "bad_request";
  if (status === 401 && /revok/i.test(String(code))) code = "revoked";
  const message =
    typeof e?.message === "string" && e.message
      ? e.message
      : (FALLBACK[code] ?? `The host refused this (HTTP ${status}).`);
  return new ApiError(code, message, status);
}

export function unreachable(): ApiError {
  return new ApiError("unreachable", FALLBACK.unreachable!);
}

export function messageOf(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
