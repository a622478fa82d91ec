/** This device's preferences (theme, font size), kept in localStorage. */

export type Theme = "system" | "dark" | "light";

class Prefs {
  theme = $state<Theme>("system");
  fontSize = $state(14);
  notifyTitle = $state(true);

  load(): void {
    try {
      const p = JSON.parse(localStorage.getItem("paddock.prefs") ?? "{}") as Partial<Prefs>;
      if (p.theme === "dark" || p.theme === "light" || p.theme === "system") this.theme = p.theme;
      if (typeof p.fontSize === "number" && p.fontSize >= 9 && p.fontSize <= 24)
        this.fontSize = p.fontSize;
      if (typeof p.notifyTitle === "boolean") this.notifyTitle = p.notifyTitle;
    } catch {
      /* defaults */
    }
    this.apply();
  }

  save(): void {
    localStorage.setItem(
      "paddock.prefs",
      JSON.stringify({ theme: this.theme, fontSize: this.fontSize, notifyTitle: this.notifyTitle }),
    );
    this.apply();
  }

  apply(): void {
    const dark =
      this.theme === "dark" ||
      (this.theme === "system" && matchMedia("(prefers-color-scheme: dark)").matches);
    document.documentElement.dataset.theme = dark ? "dark" : "light";
  }
}

export const prefs = new Prefs();
