import { describe, expect, it } from "vitest";
import { fromResponse } from "../src/lib/backend/errors";

describe("host errors", () => {
  it("keep the host's code and show its message as a sentence", () => {
    const e = fromResponse(409, {
      error: {
        code: "session_exited",
        message: "the session has exited; start it again with restart",
      },
    });
    expect(e.code).toBe("session_exited");
    expect(e.message).toBe("The session has exited; start it again with restart.");
  });
  it("say what to do when the body has no error", () => {
    const e = fromResponse(429, null);
    expect(e.code).toBe("rate_limited");
    expect(e.message).toMatch(/wait/i);
  });
});
