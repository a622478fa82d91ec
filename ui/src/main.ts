import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { hosts } from "./lib/state/hosts.svelte";
import { prefs } from "./lib/settings.svelte";
import { chooseTransport } from "./lib/backend/transport";
import { adoptThisHost } from "./lib/state/this-host";

// In the Paddock app, REST and WSS go through its pinned client: decided before anything connects.
await chooseTransport();
prefs.load();
hosts.load();
// The desktop app's window pairs itself with the app's own host the first time.
void adoptThisHost().catch((e: unknown) =>
  console.error("cannot pair with this computer's host", e),
);
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => prefs.apply());

mount(App, { target: document.getElementById("app")! });

if ("serviceWorker" in navigator && import.meta.env.PROD) {
  void navigator.serviceWorker.register("/sw.js").catch(() => {
    /* the UI works without it; it only makes it installable and open offline */
  });
}
