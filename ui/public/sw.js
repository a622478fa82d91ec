// Paddock's service worker: makes the UI installable and opens it without the network.
// It caches the app shell only (HTML, JS, CSS, icons). It never caches /api/ responses:
// what an agent is doing must come from the host, live, or be shown as unknown.
const CACHE = "paddock-shell-v1";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((c) => c.addAll(["/", "/manifest.webmanifest", "/icon.svg"])),
  );
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (
    req.method !== "GET" ||
    url.origin !== self.location.origin ||
    url.pathname.startsWith("/api/")
  ) {
    return;
  }
  // Network first, so a new UI from an upgraded host shows at once; the cache when offline.
  event.respondWith(
    fetch(req)
      .then((res) => {
        if (
          res.ok &&
          (url.pathname === "/" ||
            url.pathname.startsWith("/assets/") ||
            url.pathname.startsWith("/icon"))
        ) {
          const copy = res.clone();
          caches.open(CACHE).then((c) => c.put(req, copy));
        }
        return res;
      })
      .catch(() => caches.match(req).then((r) => r || caches.match("/"))),
  );
});

// Web Push (sent by the host's web_push channel, see crates/notify/src/web_push.rs): `show`
// a notification, or `withdraw` one answered elsewhere by replacing it (same tag) with the
// outcome. A permission request carries Approve / Deny where the browser shows actions; each
// button's single-use token is posted to the act route; a plain tap opens the request.
self.addEventListener("push", (event) => {
  let p;
  try {
    p = event.data ? event.data.json() : null;
  } catch {
    p = null;
  }
  event.waitUntil(showPush(p || { kind: "show", title: "Paddock", body: "", url: "/" }));
});

async function showPush(p) {
  const tag = p.tag || p.id || "paddock";
  const url = p.url || "/";
  if (p.kind === "withdraw") {
    for (const old of await self.registration.getNotifications({ tag })) old.close();
    return self.registration.showNotification(p.title, {
      tag,
      body: p.body,
      icon: "/icon-192.png",
      silent: true,
      data: { url, tokens: {} },
    });
  }
  const buttons = p.actions || [];
  const tokens = Object.fromEntries(buttons.map((a) => [a.action, a.token]));
  const max = (self.Notification && self.Notification.maxActions) || buttons.length;
  return self.registration.showNotification(p.title, {
    tag,
    body: p.body,
    icon: "/icon-192.png",
    renotify: true,
    requireInteraction: !!p.require_interaction,
    actions: buttons.slice(0, max).map((a) => ({ action: a.action, title: a.title })),
    data: { url, tokens, request: p.request || null },
  });
}

self.addEventListener("notificationclick", (event) => {
  event.waitUntil(onNotificationClick(event.notification, event.action));
});

/** A button: post its token and show the outcome in place. A plain tap: open the request. */
async function onNotificationClick(notification, action) {
  const data = notification.data || {};
  notification.close();
  const token = action && data.tokens ? data.tokens[action] : null;
  if (!token) return openUrl(data.url || "/");
  let res = null;
  let body = null;
  try {
    res = await fetch("/api/v1/notifications/act", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token, message: null }),
    });
    body = await res.json().catch(() => null);
  } catch {
    /* unreachable: said below */
  }
  const ok = !!res && res.ok;
  const text = ok
    ? `${action === "deny" ? "Denied" : "Approved"} (${body.by})`
    : body && body.error
      ? body.error.message
      : "Paddock could not be reached to answer. Open it and answer there.";
  await self.registration.showNotification(ok ? "Answered" : "Not answered", {
    tag: notification.tag,
    body: text,
    icon: "/icon-192.png",
    silent: true,
    data: { url: data.url || "/", tokens: {} },
  });
  return { ok, text };
}

async function openUrl(url) {
  const target = new URL(url, self.location.origin);
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const w of windows) {
    if (new URL(w.url).origin === target.origin) {
      await w.focus();
      return w.navigate(target.href);
    }
  }
  return self.clients.openWindow(target.href);
}
