/**
 * What the message box says once the host has judged whether the agent took a message.
 */
import type { MessageReceipt } from "../backend/types";

const HEAD: Record<MessageReceipt["outcome"], string> = {
  submitted: "Submitted",
  queued: "Queued",
  refused: "Refused",
  unknown: "Not confirmed",
};

/** "Submitted: claude took the message and is working on it". */
export function receiptNote(receipt: MessageReceipt): string {
  return `${HEAD[receipt.outcome]}: ${receipt.detail}`;
}
