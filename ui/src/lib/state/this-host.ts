/**
 * In the desktop app's host mode, its window is a client of the host the app runs (or joined)
 * like any other device, through the pinned client: on first start it pairs itself, as
 * admin, with a one-time offer the app asks its own supervisor for. Elsewhere (a browser, the
 * app in client mode, the phone) the shell has no host to offer and nothing happens.
 */
import { HttpApi } from "../backend/http";
import { transport } from "../backend/transport";
import type { PairingOffer, ThisHost } from "../backend/types";
import { hosts } from "./hosts.svelte";

/** The shell's commands this needs (injected for tests). */
export type Invoke = <T>(cmd: string) => Promise<T>;

async function tauriInvoke<T>(cmd: string): Promise<T> {
  const core = await import("@tauri-apps/api/core");
  return core.invoke<T>(cmd);
}

/** Pairs the window with the app's own host if it is not paired yet; true when it did. */
export async function adoptThisHost(invoke: Invoke = tauriInvoke): Promise<boolean> {
  if (transport().kind !== "pinned") return false;
  const me = await invoke<ThisHost>("this_host").catch(() => null);
  if (!me?.url || !me.fingerprint) return false;
  if (hosts.list.some((h) => h.record.url === me.url)) return false;
  const offer = await invoke<PairingOffer>("pair_this_window");
  const api = new HttpApi(offer.url, () => null, undefined, offer.fingerprint);
  const grant = await api.pair(offer.secret, "Paddock app (this computer)");
  await hosts.add(
    {
      name: "This computer",
      url: offer.url,
      fingerprint: offer.fingerprint,
      pairedAt: new Date().toISOString(),
    },
    grant,
  );
  return true;
}
