/**
 * xterm.js with its WebGL renderer, fit and unicode 11 addons. Imported lazily (dynamic
 * import) by the terminal pane so the first visit's JavaScript stays small.
 */
import { Terminal, type ITheme } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import { Unicode11Addon } from "@xterm/addon-unicode11";
import "@xterm/xterm/css/xterm.css";

export interface TerminalHandle {
  term: Terminal;
  fit(): { cols: number; rows: number };
  renderer: "webgl" | "dom";
  dispose(): void;
}

const THEME: ITheme = {
  background: "#0b0d10",
  foreground: "#e6e6e6",
  cursor: "#f5b731",
  selectionBackground: "#33467c",
};

export async function createTerminal(
  el: HTMLElement,
  opts: { fontSize: number; readOnly: boolean },
): Promise<TerminalHandle> {
  const term = new Terminal({
    fontSize: opts.fontSize,
    fontFamily: 'ui-monospace, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace',
    theme: THEME,
    scrollback: 5000,
    allowProposedApi: true,
    disableStdin: opts.readOnly,
    cursorBlink: !opts.readOnly,
    screenReaderMode: false,
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.loadAddon(new Unicode11Addon());
  term.unicode.activeVersion = "11";
  term.open(el);
  let renderer: "webgl" | "dom" = "dom";
  try {
    const { WebglAddon } = await import("@xterm/addon-webgl");
    const webgl = new WebglAddon();
    webgl.onContextLoss(() => webgl.dispose()); // falls back to the DOM renderer
    term.loadAddon(webgl);
    renderer = "webgl";
  } catch {
    // No WebGL (old phone, GPU blocklisted, headless): the DOM renderer works everywhere.
  }
  return {
    term,
    renderer,
    fit() {
      try {
        fit.fit();
      } catch {
        /* not visible yet */
      }
      return { cols: term.cols, rows: term.rows };
    },
    dispose() {
      term.dispose();
    },
  };
}
