/** Hash routes, so the endpoint serves one index.html for everything and reloads keep place. */

export type Route =
  | { name: "dashboard" }
  | { name: "session"; host: string; id: string }
  | { name: "hosts" }
  | { name: "pair"; code?: string; link?: string }
  | { name: "processes" }
  | { name: "history" }
  | { name: "system" }
  | { name: "logs" }
  | { name: "devices" }
  | { name: "settings" }
  | { name: "notifications" }
  | { name: "act"; token: string }
  | { name: "about" };

export function parseRoute(hash: string): Route {
  // A scanned pairing QR code opens `https://host:7420/#pair=SECRET&fp=FINGERPRINT`.
  if (hash.startsWith("#pair=")) return { name: "pair", link: hash };
  // A notification's button that is a link (ntfy, chat, email): `<public_url>/#act=TOKEN`.
  if (hash.startsWith("#act=")) return { name: "act", token: decodeURIComponent(hash.slice(5)) };
  const [path = "", query = ""] = hash.replace(/^#\/?/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case "s":
      if (parts[1] && parts[2]) return { name: "session", host: parts[1], id: parts[2] };
      return { name: "dashboard" };
    // A notification's link (`/#/sessions/ID?request=...`): the session on the host that
    // serves this page (hosts are found by id or by URL).
    case "sessions":
      if (parts[1])
        return {
          name: "session",
          host: typeof location === "undefined" ? "" : location.origin,
          id: parts[1],
        };
      return { name: "dashboard" };
    case "pair": {
      const code = /(?:^|&)code=([^&]*)/.exec(query)?.[1];
      // A `paddock://pair?…` link the desktop app was opened with (percent-encoded whole).
      const link = /(?:^|&)link=([^&]*)/.exec(query)?.[1];
      if (link) return { name: "pair", link: decodeURIComponent(link) };
      return { name: "pair", code: code ? decodeURIComponent(code) : undefined };
    }
    case "hosts":
    case "processes":
    case "history":
    case "system":
    case "logs":
    case "devices":
    case "settings":
    case "notifications":
    case "about":
      return { name: parts[0] };
    default:
      return { name: "dashboard" };
  }
}

export function href(r: Route): string {
  switch (r.name) {
    case "dashboard":
      return "#/";
    case "session":
      return `#/s/${encodeURIComponent(r.host)}/${encodeURIComponent(r.id)}`;
    case "pair":
      return r.code ? `#/pair?code=${encodeURIComponent(r.code)}` : "#/pair";
    case "act":
      return `#act=${encodeURIComponent(r.token)}`;
    default:
      return `#/${r.name}`;
  }
}

class Router {
  route = $state<Route>(parseRoute(typeof location === "undefined" ? "" : location.hash));
  constructor() {
    if (typeof window !== "undefined") {
      window.addEventListener("hashchange", () => (this.route = parseRoute(location.hash)));
    }
  }
  go(r: Route): void {
    location.hash = href(r);
  }
  /** Navigates without leaving the current address in history (it held a pairing secret). */
  replace(r: Route): void {
    location.replace(href(r));
  }
}

export const router = new Router();
