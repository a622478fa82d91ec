/**
 * Web Push in this browser: whether it can work here and, if not, a sentence saying why and
 * what to do; and the subscribe flow (service worker, `PushManager` with the host's VAPID key,
 * the subscription posted to the host for this device). The service worker (`public/sw.js`)
 * shows what arrives and answers Approve / Deny.
 */
import type { WebPushInfo, WebPushSubscription } from "../backend/types";

/** What the browser offers; `window` in the app, a plain object in tests. */
export interface PushEnv {
  isSecureContext: boolean;
  serviceWorker: boolean;
  pushManager: boolean;
  /** `Notification.permission`, or null when the Notification API is missing. */
  permission: NotificationPermission | null;
}

export function browserEnv(): PushEnv {
  return {
    isSecureContext: window.isSecureContext,
    serviceWorker: "serviceWorker" in navigator,
    pushManager: "PushManager" in window,
    permission: "Notification" in window ? Notification.permission : null,
  };
}

export const OWN_CERT =
  "Browsers allow push only on an origin they trust. Give the host a certificate of your own, for example your tailnet's (`tailscale cert`), with `[server] cert` and `key` in its config.toml, then open Paddock at that name (the README's Web Push section shows how).";

/** Why push cannot be turned on in this browser, for a person; null when it can be tried. */
export function pushBlocker(env: PushEnv, info: WebPushInfo | null): string | null {
  if (info && (!info.enabled || !info.public_key))
    return "Web Push is off on this host ([notify.web_push] enabled = false, or its key could not be made: see System, health).";
  if (!env.isSecureContext) return `This page is not a secure context. ${OWN_CERT}`;
  if (!env.serviceWorker)
    return "This browser has no service workers here (a private window, or an embedded view), so it cannot receive push. Open Paddock in the browser itself.";
  if (!env.pushManager)
    return "This browser has no push service (no PushManager). On an iPhone or iPad, add Paddock to the Home Screen first (Share, Add to Home Screen) and open it from there.";
  if (env.permission === null)
    return "This browser cannot show notifications (no Notification API).";
  if (env.permission === "denied")
    return "Notifications are blocked for this site. Allow them in the browser's site settings (Notifications), then try again.";
  return null;
}

/** A base64url VAPID key as the bytes `applicationServerKey` takes. */
export function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const b64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

/** The subscription's JSON as the host's route takes it. */
export function subscriptionBody(sub: PushSubscriptionJSON): WebPushSubscription {
  const { endpoint, keys } = sub;
  if (!endpoint || !keys?.p256dh || !keys.auth)
    throw new Error("the browser gave a push subscription without an endpoint or keys");
  return {
    endpoint,
    keys: { p256dh: keys.p256dh, auth: keys.auth },
    device: null,
    device_name: null,
    created_at: null,
  };
}

/** How long the browser's push service may take to give a subscription. */
export const SUBSCRIBE_WAIT_MS = 15_000;

/** `p`, or a rejection saying `why` after `ms` (a browser without a push service may never answer). */
export function withTimeout<T>(p: Promise<T>, ms: number, why: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(why)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** The host calls this needs. */
export interface PushApi {
  webPush(): Promise<WebPushInfo>;
  subscribePush(sub: WebPushSubscription): Promise<WebPushSubscription>;
}

/**
 * Turns push on for this device: registers the service worker, asks permission, subscribes
 * with the host's key and posts the subscription. Resolves with a sentence for the owner;
 * rejects with one saying what went wrong and what to do.
 */
export async function turnOnPush(api: PushApi, env: PushEnv = browserEnv()): Promise<string> {
  const info = await api.webPush();
  const blocked = pushBlocker(env, info);
  if (blocked) throw new Error(blocked);
  let reg: ServiceWorkerRegistration;
  try {
    await navigator.serviceWorker.register("/sw.js");
    reg = await navigator.serviceWorker.ready;
  } catch (e) {
    throw new Error(`The browser refused Paddock's service worker (${String(e)}). ${OWN_CERT}`, {
      cause: e,
    });
  }
  const permission = await Notification.requestPermission();
  if (permission !== "granted")
    throw new Error(
      "Notifications were not allowed. Allow them in the browser's site settings (Notifications), then try again.",
    );
  let sub: PushSubscription;
  try {
    sub =
      (await reg.pushManager.getSubscription()) ??
      (await withTimeout(
        reg.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(info.public_key ?? ""),
        }),
        SUBSCRIBE_WAIT_MS,
        `no answer from it in ${SUBSCRIBE_WAIT_MS / 1000} s`,
      ));
  } catch (e) {
    throw new Error(
      `The browser could not reach its push service (${String(e)}). Some browsers have none (Chromium without Google's services, a headless one); try Chrome, Edge, Firefox or Safari.`,
      { cause: e },
    );
  }
  const saved = await api.subscribePush(subscriptionBody(sub.toJSON()));
  return `Push is on for ${saved.device_name ?? "this device"}: permission requests arrive with Approve and Deny where this browser shows buttons.`;
}
