/**
 * In the desktop app's host mode, its window is a client of the host the app runs (or joined)
 * like any other device, through the pinned client: on first start it pairs itself, as
 * admin, with a one-time offer the app asks its own supervisor for. Elsewhere (a browser, the
 * app in client mode, the phone) the shell has no host to offer and nothing happens.
 */
import { HttpApi } from "../backend/http";
import { transport } from "../backend/transport";
import type { PairingOffer, ThisHost } from "../backend/types";
import { hosts, type HostRecord } from "./hosts.svelte";

/** The shell's commands this needs (injected for tests). */
export type Invoke = <T>(cmd: string) => Promise<T>;

async function tauriInvoke<T>(cmd: string): Promise<T> {
  const core = await import("@tauri-apps/api/core");
  return core.invoke<T>(cmd);
}

/** What to do with the stored hosts so that the app's own host is listed once. */
export interface SelfPlan {
  /** Already paired at this address: nothing to do. */
  paired: boolean;
  /** A record of the same host (same certificate) at an older address: move it here. */
  relocate: string | null;
  /** Records the app made for its own host that no longer answer as it (another certificate). */
  drop: string[];
}

/**
 * Decides from the stored records alone. The app's host takes a new port when its configured
 * one is taken (or is 0), and gets a new certificate when its data directory is new; without
 * this, each such start paired the window again and left the old "This computer" listed as
 * unreachable, its dead banner on every page.
 */
export function planSelf(
  records: HostRecord[],
  me: { url: string; fingerprint: string },
): SelfPlan {
  if (records.some((r) => r.url === me.url)) return { paired: true, relocate: null, drop: [] };
  const same = records.find((r) => r.fingerprint === me.fingerprint);
  const drop = records
    .filter((r) => r.thisComputer && r !== same && r.fingerprint !== me.fingerprint)
    .map((r) => r.id);
  return { paired: false, relocate: same ? same.id : null, drop };
}

/**
 * Pairs the window with the app's own host if it is not paired yet; true when it did. A
 * record of the same host at an older address follows it instead, and records of an earlier
 * identity of this computer's host go.
 */
export async function adoptThisHost(invoke: Invoke = tauriInvoke): Promise<boolean> {
  if (transport().kind !== "pinned") return false;
  const me = await invoke<ThisHost>("this_host").catch(() => null);
  if (!me?.url || !me.fingerprint) return false;
  const plan = planSelf(
    hosts.list.map((h) => h.record),
    { url: me.url, fingerprint: me.fingerprint },
  );
  if (plan.paired) return false;
  for (const id of plan.drop) hosts.remove(id);
  if (plan.relocate) {
    hosts.relocate(plan.relocate, me.url);
    return false;
  }
  const offer = await invoke<PairingOffer>("pair_this_window");
  const api = new HttpApi(offer.url, () => null, undefined, offer.fingerprint);
  const grant = await api.pair(offer.secret, "Paddock app (this computer)");
  await hosts.add(
    {
      name: "This computer",
      url: offer.url,
      fingerprint: offer.fingerprint,
      pairedAt: new Date().toISOString(),
      thisComputer: true,
    },
    grant,
  );
  return true;
}
