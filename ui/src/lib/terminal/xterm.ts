/**
 * xterm.js with its WebGL renderer, fit and unicode 11 addons. Imported lazily (dynamic
 * import) by the terminal pane so the first visit's JavaScript stays small. WebGL only where
 * it draws: not where the app's shell says its webview draws it badly (WebKitGTK), and never
 * after the context is lost; everywhere else the DOM renderer, which works in every engine.
 */
import { Terminal, type ITheme } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import { Unicode11Addon } from "@xterm/addon-unicode11";
import "@xterm/xterm/css/xterm.css";

export type Renderer = "webgl" | "dom";

export interface TerminalHandle {
  term: Terminal;
  fit(): { cols: number; rows: number };
  /** The renderer drawing now (WebGL can fall back to the DOM later). */
  readonly renderer: Renderer;
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
  opts: {
    fontSize: number;
    readOnly: boolean;
    /** May WebGL be tried here (the shell's `webgl_terminal`)? */
    webgl: boolean;
    /** Told when the renderer changes after start (WebGL lost, DOM takes over). */
    onRenderer?: (r: Renderer) => void;
  },
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
  let renderer: Renderer = "dom";
  if (opts.webgl && webgl2Available()) {
    try {
      const { WebglAddon } = await import("@xterm/addon-webgl");
      const webgl = new WebglAddon();
      webgl.onContextLoss(() => {
        // Disposing the addon hands the terminal back to the DOM renderer; redraw it all.
        webgl.dispose();
        renderer = "dom";
        term.refresh(0, term.rows - 1);
        opts.onRenderer?.(renderer);
      });
      term.loadAddon(webgl);
      renderer = "webgl";
    } catch {
      // WebGL refused at start (GPU blocklisted, old phone): the DOM renderer stays.
    }
  }
  return {
    term,
    get renderer() {
      return renderer;
    },
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

/** Whether this engine gives a WebGL 2 context at all (xterm.js' WebGL renderer needs one). */
function webgl2Available(): boolean {
  try {
    const gl = document.createElement("canvas").getContext("webgl2");
    const ok = !!gl && !gl.isContextLost();
    gl?.getExtension("WEBGL_lose_context")?.loseContext(); // give the probe's context back
    return ok;
  } catch {
    return false;
  }
}
