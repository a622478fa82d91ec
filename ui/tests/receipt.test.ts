import { describe, expect, it } from "vitest";
import { receiptNote } from "../src/lib/model/receipt";
import type { MessageReceipt, SessionView } from "../src/lib/backend/types";

const receipt = (outcome: MessageReceipt["outcome"], detail: string): MessageReceipt => ({
  outcome,
  detail,
  session: {} as SessionView,
});

describe("the message box's note after sending", () => {
  it("names each outcome before the host's sentence", () => {
    expect(receiptNote(receipt("submitted", "claude took the message"))).toBe(
      "Submitted: claude took the message",
    );
    expect(receiptNote(receipt("queued", "claude is busy"))).toBe("Queued: claude is busy");
    expect(receiptNote(receipt("refused", "claude has exited"))).toBe("Refused: claude has exited");
    expect(receiptNote(receipt("unknown", "no sign within 5.0 s"))).toBe(
      "Not confirmed: no sign within 5.0 s",
    );
  });
});
