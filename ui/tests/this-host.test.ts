import { describe, expect, it } from "vitest";
import type { HostRecord } from "../src/lib/state/hosts.svelte";
import { planSelf } from "../src/lib/state/this-host";

function rec(id: string, url: string, fingerprint: string, thisComputer?: boolean): HostRecord {
  return {
    id,
    name: thisComputer ? "This computer" : id,
    url,
    fingerprint,
    deviceId: `d-${id}`,
    role: "admin",
    sealedRefresh: "sealed",
    sealedAccess: "sealed",
    pairedAt: "2026-12-07T00:00:00Z",
    thisComputer,
  };
}

const me = { url: "https://127.0.0.1:7433", fingerprint: "aa" };

describe("the app's own host, listed once", () => {
  it("pairs the first time", () => {
    expect(planSelf([rec("lan", "https://10.0.0.9:7433", "bb")], me)).toEqual({
      paired: false,
      relocate: null,
      drop: [],
    });
  });

  it("does nothing when it is paired at this address", () => {
    const plan = planSelf([rec("self", me.url, "aa", true)], me);
    expect(plan.paired).toBe(true);
  });

  it("moves the record of the same host to its new port, keeping its tokens", () => {
    const plan = planSelf([rec("self", "https://127.0.0.1:41107", "aa", true)], me);
    expect(plan).toEqual({ paired: false, relocate: "self", drop: [] });
  });

  it("drops what it paired for an earlier identity of this host, never other hosts", () => {
    const records = [
      rec("old-self", "https://127.0.0.1:33299", "cc", true),
      rec("other", "https://10.0.0.9:7433", "bb"),
    ];
    expect(planSelf(records, me)).toEqual({ paired: false, relocate: null, drop: ["old-self"] });
  });
});
