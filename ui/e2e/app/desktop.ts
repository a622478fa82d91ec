/**
 * The X display around the app's window, for what WebDriver cannot reach: the tray icon in the
 * tray host (`trayer`, started by scripts/app-e2e.sh), its native menu, other native windows,
 * and pictures of the screen. Uses xdotool and ImageMagick's `import` on $DISPLAY.
 */
import { execFileSync } from "node:child_process";
import { until } from "../harness";

export interface Geometry {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

function xdo(...args: string[]): string {
  return execFileSync("xdotool", args, { encoding: "utf8" });
}

function visible(): string[] {
  try {
    return xdo("search", "--onlyvisible", "--name", ".*").trim().split("\n").filter(Boolean);
  } catch {
    return []; // xdotool exits 1 when nothing matches
  }
}

export function geometry(id: string): Geometry {
  const v: Record<string, number> = {};
  for (const line of xdo("getwindowgeometry", "--shell", id).split("\n")) {
    const [k, n] = line.split("=");
    if (k && n) v[k] = Number(n);
  }
  return { id, x: v.X ?? 0, y: v.Y ?? 0, width: v.WIDTH ?? 0, height: v.HEIGHT ?? 0 };
}

/** The app's icon in the tray host (the one trayer window big enough to be an icon). */
export async function trayIcon(): Promise<Geometry> {
  const icon = await until(
    "the app's icon in the tray",
    () =>
      xdo("search", "--class", "trayer")
        .trim()
        .split("\n")
        .map(geometry)
        .find((g) => g.width >= 16 && g.height >= 16),
    20_000,
  );
  return icon!;
}

/** Clicks the tray icon; resolves with the menu that opened (a new visible window). */
export async function openTrayMenu(): Promise<Geometry> {
  const icon = await trayIcon();
  const before = new Set(visible());
  xdo("mousemove", String(icon.x + icon.width / 2), String(icon.y + icon.height / 2), "click", "1");
  const menu = await until("the tray's menu to open", () =>
    visible()
      .filter((w) => !before.has(w))
      .map(geometry)
      .find((g) => g.width > 50 && g.height > 50),
  );
  return menu!;
}

/** Waits until `menu` (from `openTrayMenu`) is closed: a choice in it was made, or it was left. */
export async function trayMenuClosed(menu: Geometry): Promise<void> {
  await until("the tray's menu to close", () => !visible().includes(menu.id));
}

/** Presses keys (xdotool names: Down, Return, Escape) in whatever has the focus. */
export function keys(...names: string[]): void {
  xdo("key", ...names);
}

/** Waits for a visible top-level window titled `name`. */
export async function windowNamed(name: string): Promise<Geometry> {
  const found = await until(`a window titled "${name}"`, () => {
    try {
      const id = xdo("search", "--onlyvisible", "--name", `^${name}$`).trim().split("\n")[0];
      return id ? geometry(id) : null;
    } catch {
      return null;
    }
  });
  return found!;
}

/** Saves a PNG of a region of the screen. */
export function shotOfScreen(
  path: string,
  r: { x: number; y: number; width: number; height: number },
) {
  execFileSync("import", [
    "-window",
    "root",
    "-crop",
    `${r.width}x${r.height}+${r.x}+${r.y}`,
    "+repage",
    path,
  ]);
}
