import { describe, expect, it, vi } from "vitest";
import {
  keyBytes,
  pushBlocker,
  subscriptionBody,
  withTimeout,
  type PushEnv,
} from "../src/lib/model/push";

const ready: PushEnv = {
  isSecureContext: true,
  serviceWorker: true,
  pushManager: true,
  permission: "default",
};
const on = { enabled: true, public_key: "AQID", subscriptions: 0 };

describe("whether push can work in this browser", () => {
  it("says nothing when everything is there", () => {
    expect(pushBlocker(ready, on)).toBeNull();
  });
  it("explains the own-certificate option on an insecure origin", () => {
    const why = pushBlocker({ ...ready, isSecureContext: false }, on);
    expect(why).toMatch(/secure context/);
    expect(why).toMatch(/\[server\] cert/);
  });
  it("says how to allow notifications after a denial", () => {
    expect(pushBlocker({ ...ready, permission: "denied" }, on)).toMatch(/site settings/);
  });
  it("says when the browser has no push service, and the iPhone's way", () => {
    expect(pushBlocker({ ...ready, pushManager: false }, on)).toMatch(/Home Screen/);
  });
  it("says when the host has Web Push off", () => {
    expect(pushBlocker(ready, { enabled: false, public_key: null, subscriptions: 0 })).toMatch(
      /\[notify.web_push\]/,
    );
  });
});

describe("the subscription", () => {
  it("decodes the host's base64url VAPID key", () => {
    expect(Array.from(keyBytes("AQID_-8"))).toEqual([1, 2, 3, 255, 239]);
  });
  it("passes the browser's endpoint and keys and refuses a subscription without them", () => {
    const body = subscriptionBody({
      endpoint: "https://push.example/x",
      keys: { p256dh: "P", auth: "A" },
    });
    expect(body.endpoint).toBe("https://push.example/x");
    expect(body.keys).toEqual({ p256dh: "P", auth: "A" });
    expect(() => subscriptionBody({ endpoint: "https://push.example/x" })).toThrow(/keys/);
  });
});

describe("waiting on the browser", () => {
  it("gives up with the reason when the push service never answers", async () => {
    vi.useFakeTimers();
    const never = new Promise<never>(() => {});
    const waiting = withTimeout(never, 15_000, "no answer from it in 15 s");
    vi.advanceTimersByTime(15_000);
    await expect(waiting).rejects.toThrow("no answer from it in 15 s");
    vi.useRealTimers();
  });
  it("passes the answer through when it comes", async () => {
    await expect(withTimeout(Promise.resolve(7), 1000, "late")).resolves.toBe(7);
  });
});
