/**
 * Session controls on a shell loop, desktop: interrupt, pause, resume, stop after a
 * confirmation, restart.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { terminalLines, until } from "../harness";
import { host, shot, outputLines, pairedDesktop, openSession, procState, listed } from "./shared";

describe("session controls on a shell loop, desktop", () => {
  it("interrupts, pauses, resumes, stops after a confirmation (Cancel keeps it) and restarts it", async () => {
    const d = await pairedDesktop("operator");
    try {
      const { page } = d;
      const script = "trap 'echo got-INT' INT; echo loop-ready; while :; do sleep 1; done";
      const out = await host.paddock("run", "--name", "ctl-loop", "--", "sh", "-c", script);
      const id = out.trim().split(/\s+/).pop()!;
      const pid = (await until("the session in `paddock ls`", () => listed(id)))!.pid;
      await openSession(d, id);
      await until(
        "the loop's first line",
        async () => (await outputLines(d, /^loop-ready$/)).length === 1,
      );
      const controls = page.getByRole("toolbar", { name: "Session controls" });
      const button = (name: string) => controls.getByRole("button", { name, exact: true });
      const badge = page.locator(".head [data-state]");

      // Interrupt: the shell's INT trap prints, and the loop goes on.
      await button("Interrupt").click();
      await until(
        "the trap's line",
        async () => (await outputLines(d, /^(\^C)?got-INT$/)).length === 1,
      );
      await until("the host's confirmation", () =>
        page.getByText("Interrupt: the host confirmed it.").isVisible(),
      );

      // Pause stops the process (T); Resume runs it again, and it still answers an interrupt.
      await button("Pause").click();
      await until("the shell stopped (T)", () => procState(pid) === "T");
      await until("the host's confirmation", () =>
        page.getByText("Pause: the host confirmed it.").isVisible(),
      );
      // The host says it is paused: a badge, and only Resume offered.
      await until("the Paused badge", () => page.locator('[data-paused="true"]').isVisible());
      await until(
        "only Resume offered",
        async () => (await button("Pause").isDisabled()) && (await button("Resume").isEnabled()),
      );
      await shot(d, "desktop-session-paused");
      await button("Resume").click();
      await until("the shell running again", () => ["S", "R"].includes(procState(pid) ?? ""));
      await until(
        "the Paused badge gone",
        async () => (await page.locator('[data-paused="true"]').count()) === 0,
      );
      // The controls come back once the host confirmed the resume (a moment after the badge).
      await until("Pause offered again", () => button("Pause").isEnabled());
      await button("Interrupt").click();
      await until("a second trap line after Resume", async () => {
        if ((await outputLines(d, /^(\^C)?got-INT$/)).length === 2) return true;
        // When it fails: what the window shows, what the host recorded, the shell's state.
        const shown = (await terminalLines(page)).filter((l) => l.trim()).slice(-6);
        const logged = (await host.paddock("logs", id)).slice(-200);
        throw new Error(
          `the window shows ${JSON.stringify(shown)}, the host has ${JSON.stringify(logged)}, the shell is ${procState(pid)}`,
        );
      });

      // Stop asks first; Cancel leaves it running.
      const dialog = page.getByRole("dialog", { name: "Stop ctl-loop?" });
      await button("Stop").click();
      await until("the stop confirmation", () => dialog.isVisible());
      expect(await dialog.textContent()).toMatch(/TERM, then KILL/);
      await shot(d, "desktop-session-confirm-stop");
      await dialog.getByRole("button", { name: "Cancel" }).click();
      await until("the dialog closed", async () => !(await dialog.isVisible()));
      expect(procState(pid)).toMatch(/[SR]/);
      expect((await listed(id))?.state).not.toBe("exited");
      expect(await page.getByText(/Stop: the host confirmed it/).count()).toBe(0);

      // Confirmed, it stops: the process is gone and the session shows exited.
      await button("Stop").click();
      await until("the stop confirmation again", () => dialog.isVisible());
      await dialog.getByRole("button", { name: "Stop", exact: true }).click();
      await until(
        "the session exited",
        async () => (await badge.getAttribute("data-state")) === "exited",
      );
      await until("the shell gone", () => [null, "Z"].includes(procState(pid)));
      // An exited session keeps Restart only.
      expect(await button("Interrupt").count()).toBe(0);

      // Restart asks, then runs the same command again under a new pid.
      const again = page.getByRole("dialog", { name: "Restart ctl-loop?" });
      await button("Restart").click();
      await until("the restart confirmation", () => again.isVisible());
      await again.getByRole("button", { name: "Restart", exact: true }).click();
      const restarted = (await until(
        "a new process for the session",
        async () => {
          const s = await listed(id);
          return s && s.pid !== pid && s.state !== "exited" && procState(s.pid) ? s : undefined;
        },
        20_000,
      ))!;
      expect(readFileSync(`/proc/${restarted.pid}/cmdline`, "utf8").split("\0")).toContain(script);
      await until("the controls of a running session", () => button("Interrupt").isVisible());
      await button("Interrupt").click();
      await until(
        "the new shell's trap line",
        async () =>
          (await outputLines(d, /^(\^C)?got-INT$/)).length >= 1 &&
          (await terminalLines(page)).join("\n").lastIndexOf("got-INT") >
            (await terminalLines(page)).join("\n").lastIndexOf("loop-ready"),
      );
      await shot(d, "desktop-session-restarted");
    } finally {
      await d.close();
    }
  });
});
