/**
 * A 390×844 touch-only phone: pairing with the short code, the key bar, the other screens,
 * and a real Claude Code's permission request found and approved.
 */
import { describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { ClaudeSandbox, device, startClaude, terminalLines, until } from "../harness";
import { host, shellId, phone, setPhone, setClaude, shot, outputLines } from "./shared";

describe("phone, 390×844, touch only", () => {
  it("pairs with the short code, opens a session and types with the key bar", async () => {
    const phone = setPhone(await device("phone"));
    const { page } = phone;
    const offer = await host.pair("operator");
    await page.goto(host.url + "/");
    await page.getByRole("link", { name: "Pair a host" }).first().tap();
    await shot(phone, "phone-pair");
    await page.getByPlaceholder("ABCD-1234").tap();
    await page.keyboard.type(offer.code);
    await page.getByRole("button", { name: "Pair", exact: true }).tap();

    const card = page.locator(`[data-session="${shellId}"]`);
    await until("the session's card", () => card.isVisible());
    await shot(phone, "phone-dashboard");
    await card.tap();
    await until("a writable terminal", () =>
      page.locator('[data-testid="terminal"][data-writable="true"]').isVisible(),
    );
    await page.locator('[data-testid="terminal"]').tap();
    await page.keyboard.type('echo "phone-$((2+3))"');
    await page.getByRole("button", { name: "Enter" }).tap();
    await until("the output", async () => (await outputLines(phone!, /^phone-5$/)).length === 1);

    // Ctrl-C on the key bar interrupts a running command: the next one runs at once.
    await page.keyboard.type("sleep 60");
    await page.getByRole("button", { name: "Enter" }).tap();
    await page.getByRole("button", { name: "Ctrl-C" }).tap();
    await page.keyboard.type("echo after-$((1+1))-interrupt");
    await page.getByRole("button", { name: "Enter" }).tap();
    await until(
      "the command after Ctrl-C",
      async () => (await outputLines(phone!, /^after-2-interrupt$/)).length === 1,
      10_000,
    );
    await shot(phone, "phone-session");

    await page.getByRole("tab", { name: "Summary" }).tap();
    await until("the transcript pane", () => page.getByLabel("Transcript").isVisible());
    await shot(phone, "phone-transcript");
  });

  it("shows the other screens at phone size", async () => {
    const { page } = phone!;
    for (const [hash, heading, name] of [
      ["#/system", "System", "phone-system"],
      ["#/hosts", "Hosts", "phone-hosts"],
    ] as const) {
      await page.goto(new URL(hash, host.url + "/").toString());
      await until(`the ${heading} page`, () =>
        page.getByRole("heading", { name: heading, exact: true }).isVisible(),
      );
      await shot(phone!, name);
    }
    // An operator device does not get the admin-only Devices list.
    await page.goto(new URL("#/devices", host.url + "/").toString());
    await until("the role notice", () => page.getByText(/Only an admin device/).isVisible());

    // The theme follows the system's: dark here.
    await page.emulateMedia({ colorScheme: "dark" });
    await page.goto(new URL("#/", host.url + "/").toString());
    await until(
      "the dark theme",
      async () => (await page.evaluate(() => document.documentElement.dataset.theme)) === "dark",
    );
    await until("the sessions", () => page.locator(`[data-session="${shellId}"]`).isVisible());
    await shot(phone!, "phone-dashboard-dark");
    await page.emulateMedia({ colorScheme: "light" });
  });

  it("finds the Claude Code session waiting for permission and approves it, touch only", async () => {
    const command = "echo approved-in-paddock > made.txt";
    const claude = setClaude(new ClaudeSandbox());
    await claude.start({
      replies: [
        {
          when: { type: "user_says", value: "please make a file" },
          answer: {
            kind: "message",
            blocks: [
              { type: "text", text: "I will create the file." },
              {
                type: "tool_use",
                name: "Bash",
                input: { command, description: "Create made.txt" },
              },
            ],
            usage: { input_tokens: 1200, output_tokens: 40 },
          },
        },
        {
          when: { type: "tool_result" },
          answer: {
            kind: "message",
            blocks: [{ type: "text", text: "Done: made.txt exists." }],
            usage: { input_tokens: 1300, output_tokens: 12 },
          },
        },
      ],
    });
    const id = await startClaude(host, claude, "claude-agent");
    const { page } = phone!;
    await page.goto(host.url + "/#/");
    const card = page.locator(`[data-session="${id}"]`);
    const state = () => card.locator("[data-state]").getAttribute("data-state");
    await until(
      "Claude Code at its prompt",
      async () => ["idle", "waiting_input"].includes((await state()) ?? ""),
      90_000,
    );

    // A message from the phone's message box starts the agent's turn.
    await card.tap();
    await page.getByLabel("Message to the agent").tap();
    await page.keyboard.type("please make a file");
    await page.getByRole("button", { name: "Send" }).tap();
    await until("the host to say the agent took the message", () =>
      page.getByText(/^Submitted: .* took the message/).isVisible(),
    );

    // On the dashboard the waiting session is first and loudest, and the title counts it.
    await page.getByRole("link", { name: "Back to sessions" }).tap();
    await until(
      "the session waiting for permission, first",
      async () =>
        (await state()) === "waiting_permission" &&
        (await page.locator("[data-session]").first().getAttribute("data-session")) === id,
      60_000,
    );
    const waiting = await page
      .locator('[data-state="waiting_permission"], [data-state="waiting_input"]')
      .count();
    expect(waiting).toBeGreaterThan(0);
    expect(await page.title()).toMatch(new RegExp(`^\\(${waiting}\\) Paddock: ${waiting} waiting`));
    expect(existsSync(`${claude.project}/made.txt`)).toBe(false);
    await shot(phone!, "phone-dashboard-permission");

    await card.tap();
    await until("the permission card", () =>
      page.getByRole("heading", { name: /Permission needed/ }).isVisible(),
    );
    await until("the exact command on it", () => page.getByText(command).first().isVisible());
    await shot(phone!, "phone-permission");
    await page.getByRole("button", { name: "Approve", exact: true }).tap();
    await until("the host to confirm the approval", () =>
      page.getByText(/Approved\. The host passed it/).isVisible(),
    );
    await until(
      "made.txt written by the real Bash tool",
      () =>
        existsSync(`${claude!.project}/made.txt`) &&
        readFileSync(`${claude!.project}/made.txt`, "utf8") === "approved-in-paddock\n",
      30_000,
    );
    // On a phone a session with a transcript opens on its conversation; the terminal is a tab.
    await page.getByRole("tab", { name: "Terminal" }).tap();
    await until(
      "the agent's reply in the terminal",
      async () => (await terminalLines(page)).some((l) => l.includes("Done: made.txt exists.")),
      30_000,
    );
    await shot(phone!, "phone-approved");

    // The transcript side: the Bash action the agent took, from the host's indexer.
    await page.getByRole("tab", { name: "Summary" }).tap();
    await until(
      "the Bash action in the transcript",
      () => page.getByLabel("Transcript").getByText("Recent actions").isVisible(),
      30_000,
    );
    await until("its command", () =>
      page
        .getByLabel("Transcript")
        .getByText(/approved-in-paddock/)
        .first()
        .isVisible(),
    );
    await shot(phone!, "phone-transcript-claude");
  });
});
