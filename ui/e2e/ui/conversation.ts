/**
 * The conversation on a touch phone: the real Claude Code's answer and tool calls as a
 * thread, its question answered with a tap, and a cold 5,000-turn session paged.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ClaudeSandbox, device, PADDOCK, startClaude, until, type Device } from "../harness";
import { host, shot } from "./shared";

describe("the conversation on a phone, 390×844, touch only", () => {
  const question = "Which colour should the button be?";
  let sb: ClaudeSandbox;
  let p: Device;
  let id = "";

  beforeAll(async () => {
    sb = new ClaudeSandbox();
    const msg = (blocks: unknown[]) => ({
      kind: "message",
      blocks,
      usage: { input_tokens: 1200, output_tokens: 40 },
    });
    await sb.start({
      replies: [
        {
          when: { type: "user_says", value: "tidy the notes" },
          answer: msg([
            { type: "thinking", thinking: "The notes have an old line; replace it." },
            { type: "text", text: "I will **tidy** `notes.md`." },
            { type: "tool_use", name: "Read", input: { file_path: `${sb.project}/notes.md` } },
          ]),
        },
        {
          when: { type: "tool_result" },
          answer: msg([
            {
              type: "tool_use",
              name: "Edit",
              input: {
                file_path: `${sb.project}/notes.md`,
                old_string: "old line",
                new_string: "new line",
              },
            },
          ]),
        },
        {
          when: { type: "tool_result" },
          answer: msg([{ type: "tool_use", name: "Bash", input: { command: "cat notes.md" } }]),
        },
        {
          when: { type: "tool_result" },
          answer: msg([
            {
              type: "text",
              text: "The notes now say new line:\n\n```sh\ncat notes.md\n```\n\nSee <b>https://example.com/notes</b>.",
            },
            {
              type: "tool_use",
              name: "AskUserQuestion",
              input: {
                questions: [
                  {
                    question,
                    header: "Colour",
                    multiSelect: false,
                    options: [
                      { label: "Red", description: "Bold" },
                      { label: "Blue", description: "Calm" },
                    ],
                  },
                ],
              },
            },
          ]),
        },
        {
          when: { type: "tool_result" },
          answer: msg([{ type: "text", text: "Painting it as chosen. Shall I commit the notes?" }]),
        },
        {
          when: { type: "user_says", value: "yes please commit" },
          answer: msg([{ type: "text", text: "Committed the notes." }]),
        },
      ],
    });
    writeFileSync(join(sb.project, "notes.md"), "# Notes\nold line\n");
    id = await startClaude(host, sb, "claude-chat", [
      "--allowedTools",
      "Read",
      "Edit",
      "Bash(cat:*)",
    ]);
    p = await device("phone");
    const offer = await host.pair("operator");
    await p.page.goto(offer.pair_url);
    await p.page.getByRole("button", { name: "Pair this device" }).tap();
    const card = p.page.locator(`[data-session="${id}"]`);
    await until("the session's card", () => card.isVisible());
    await until(
      "Claude Code at its prompt",
      async () =>
        ["idle", "waiting_input"].includes(
          (await card.locator("[data-state]").getAttribute("data-state")) ?? "",
        ),
      90_000,
    );
    await card.tap();
  });

  afterAll(async () => {
    await p?.close().catch(() => {});
    await host.paddock("rm", "--force", id).catch(() => {});
    sb?.close();
  });

  it("reads the real Claude Code's answer and tool calls as a thread, and answers its question with a tap", async () => {
    const { page } = p;
    await page.getByLabel("Message to the agent").tap();
    await page.keyboard.type("tidy the notes");
    await page.getByRole("button", { name: "Send", exact: true }).tap();

    // The question with its options as buttons, from the permission hook.
    await until(
      "the agent's question",
      () => page.getByRole("heading", { name: question }).isVisible(),
      60_000,
    );
    const chat = page.getByRole("tab", { name: "Chat" });
    expect(await chat.getAttribute("aria-selected")).toBe("true");
    const thread = page.getByLabel("Conversation");
    await until("the prompt in the thread", () => thread.getByText("tidy the notes").isVisible());
    await until("the agent's markdown", () =>
      thread.locator("strong", { hasText: "tidy" }).isVisible(),
    );
    // Raw HTML stays text; the link shows its address.
    await until("the text with its HTML as text", () =>
      thread.getByText("<b>", { exact: false }).first().isVisible(),
    );
    expect(await thread.locator("b").count()).toBe(0);
    // Raw HTML stays text; a link shows its own address.
    expect(await thread.locator('a[href="https://example.com/notes"]').textContent()).toBe(
      "https://example.com/notes",
    );
    await until("the code block with its copy button", () =>
      thread.getByRole("button", { name: "Copy the code" }).first().isVisible(),
    );
    // Tool calls are one-line rows; tapped, the Edit shows its coloured diff, the Bash its output.
    const edit = thread.locator('button[data-tool="Edit"]');
    await until("the Edit row", () => edit.isVisible());
    await edit.tap();
    await until("the diff's added line", () =>
      thread.locator(".line.add", { hasText: "+new line" }).isVisible(),
    );
    expect(await thread.locator(".line.del", { hasText: "-old line" }).count()).toBe(1);
    const bash = thread.locator('button[data-tool="Bash"]');
    await bash.tap();
    await until("the command's output", () =>
      thread.getByLabel("Output").getByText("new line").isVisible(),
    );
    await shot(p, "phone-conversation");
    await page.getByRole("heading", { name: question }).scrollIntoViewIfNeeded();
    await shot(p, "phone-ask-user-question");

    // Tapping an option answers, once, and the agent goes on with that choice.
    await page.getByRole("button", { name: /^Blue/ }).tap();
    await until("the host's confirmation", () => page.getByText(/^Answered: Blue/).isVisible());
    await until(
      "the tool result with the answer at the fake API",
      () =>
        sb
          .requests()
          .some((r) => JSON.stringify(r.messages ?? []).includes(`\\"${question}\\"=\\"Blue\\"`)),
      30_000,
    );
    await until(
      "the agent's next words in the thread",
      () => thread.getByText("Painting it as chosen.").isVisible(),
      30_000,
    );
    const audit = JSON.parse(await host.paddock("approvals", "--all", "--json")) as {
      tool: string;
      outcome?: { kind: string; decision?: { behavior: string; answers?: Record<string, string> } };
    }[];
    const answered = audit.filter((r) => r.tool === "AskUserQuestion");
    expect(answered.length).toBe(1);
    expect(answered[0]!.outcome?.decision).toEqual({
      behavior: "answer",
      answers: { [question]: "Blue" },
    });

    // A plain question at the end of a turn: Reply, type, and the agent answers.
    await until(
      "the question the turn ended with",
      () => thread.getByRole("note").getByText("Shall I commit the notes?").isVisible(),
      30_000,
    );
    await shot(p, "phone-plain-question");
    await thread.getByRole("button", { name: "Reply" }).tap();
    await page.keyboard.type("yes please commit");
    await page.getByRole("button", { name: "Send", exact: true }).tap();
    await until(
      "the agent's answer in the thread",
      () => thread.getByText("Committed the notes.").isVisible(),
      60_000,
    );
    await shot(p, "phone-conversation-replied");
  });

  it("a cold 5,000-turn session opens on its newest turns at once, and scrolling up reads older pages", async () => {
    const { page } = p;
    // A Claude Code transcript of 5,000 turns (about 2 MB) that no client has read yet.
    const claudeDir = join(host.dir, "claude");
    mkdirSync(join(claudeDir, "projects", "-long"), { recursive: true });
    const path = join(claudeDir, "projects", "-long", "long-chat.jsonl");
    const lines: string[] = [];
    for (let n = 0; n < 5000; n++) {
      lines.push(
        JSON.stringify({
          type: "user",
          timestamp: "2026-12-06T10:00:00Z",
          message: { role: "user", content: `Step ${n}: make the tests pass` },
        }),
        JSON.stringify({
          type: "assistant",
          timestamp: "2026-12-06T10:00:01Z",
          message: {
            id: `m${n}`,
            model: "claude-sonnet-4-5",
            usage: { input_tokens: 1000, output_tokens: 50 },
            content: [{ type: "text", text: `Module ${n} passes.` }],
          },
        }),
      );
    }
    writeFileSync(path, lines.join("\n") + "\n");
    const out = await host.paddock(
      "run",
      "--name",
      `long-chat-${Date.now()}`,
      "--",
      "sleep",
      "100000",
    );
    const long = out.trim().split(/\s+/).pop()!;
    execFileSync(PADDOCK, ["hook", "--agent", "claude"], {
      env: { ...host.env, PADDOCK_SESSION_ID: long, CLAUDE_CONFIG_DIR: claudeDir },
      input: JSON.stringify({
        hook_event_name: "UserPromptSubmit",
        session_id: "e2e-long",
        transcript_path: path,
        cwd: "/",
        prompt: "Step 4999",
      }),
    });
    await page.goto(host.url + "/#/");
    const card = page.locator(`[data-session="${long}"]`);
    await until("the long session's card", () => card.isVisible());
    await card.tap();
    // On a phone the Chat opens by itself once the host has read the session's insight.
    const thread = page.getByLabel("Conversation");
    await until(
      "the newest turn",
      () => thread.getByText("Module 4999 passes.").isVisible(),
      20_000,
    );
    // It opens at the bottom: the newest turn in view.
    await until("the thread scrolled to its newest turn", () =>
      thread
        .locator(".thread")
        .evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 48),
    );
    const turns = thread.locator("[data-turn]");
    expect(await turns.count()).toBe(30);
    expect(await thread.getByText("Step 4970: make the tests pass").count()).toBe(1);
    expect(await thread.getByText("Step 4969: make the tests pass").count()).toBe(0);
    await shot(p, "phone-conversation-long");

    // Scrolled to the top: the page before is read and put above, and so on.
    for (const want of [60, 90]) {
      await thread.locator(".thread").evaluate(async (el) => {
        el.scrollTop = el.scrollHeight;
        await new Promise((r) => requestAnimationFrame(r));
        el.scrollTop = 0;
      });
      await until(`${want} turns`, async () => (await turns.count()) >= want, 10_000);
    }
    expect(await thread.getByText("Step 4910: make the tests pass").count()).toBe(1);
    const shown = await turns.evaluateAll((els) =>
      els.map((e) => Number(e.getAttribute("data-turn"))),
    );
    expect(shown).toEqual([...shown].sort((a, b) => a - b));
    expect(new Set(shown).size).toBe(shown.length);
    await host.paddock("rm", "--force", long).catch(() => {});
  });
});
