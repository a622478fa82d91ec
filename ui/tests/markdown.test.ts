import { describe, expect, it } from "vitest";
import { parseInline, parseMarkdown, safeHref } from "../src/lib/model/markdown";

describe("reading the agent's markdown safely", () => {
  it("keeps raw HTML as text, never as markup", () => {
    const blocks = parseMarkdown('<img src=x onerror="alert(1)"> and <script>boom()</script>');
    expect(blocks).toEqual([
      {
        t: "p",
        inline: [{ t: "text", text: '<img src=x onerror="alert(1)"> and <script>boom()</script>' }],
      },
    ]);
  });
  it("links only http(s) and mailto addresses and always keeps the address to show", () => {
    expect(parseInline("[docs](https://example.com/a) [bad](javascript:alert(1))")).toEqual([
      { t: "link", text: "docs", url: "https://example.com/a", href: "https://example.com/a" },
      { t: "text", text: " " },
      { t: "link", text: "bad", url: "javascript:alert(1", href: null },
      { t: "text", text: ")" },
    ]);
    expect(safeHref(" MAILTO:me@example.com")).toBe("MAILTO:me@example.com");
    expect(safeHref("data:text/html,hi")).toBeNull();
    const bare = parseInline("see https://example.com/x.");
    expect(bare[1]).toEqual({
      t: "link",
      text: "https://example.com/x",
      url: "https://example.com/x",
      href: "https://example.com/x",
    });
    expect(bare[2]).toEqual({ t: "text", text: "." });
  });
  it("reads fenced code with its language, untouched, and an unclosed fence to the end", () => {
    const blocks = parseMarkdown("Run:\n\n```sh\ncat *notes*.md\n<b>\n```\nafter\n\n~~~\nopen");
    expect(blocks).toEqual([
      { t: "p", inline: [{ t: "text", text: "Run:" }] },
      { t: "code", lang: "sh", text: "cat *notes*.md\n<b>" },
      { t: "p", inline: [{ t: "text", text: "after" }] },
      { t: "code", lang: "", text: "open" },
    ]);
  });
  it("reads headings, lists, quotes, rules and emphasis, but not snake_case", () => {
    const blocks = parseMarkdown(
      "## Plan\n- **write** the file\n- fix `the_bug` in my_file_name\n\n3. third\n4. fourth\n\n> quoted *a*\n\n---",
    );
    expect(blocks[0]).toEqual({ t: "h", level: 2, inline: [{ t: "text", text: "Plan" }] });
    expect(blocks[1]).toEqual({
      t: "list",
      ordered: false,
      start: 1,
      items: [
        [
          { t: "strong", children: [{ t: "text", text: "write" }] },
          { t: "text", text: " the file" },
        ],
        [
          { t: "text", text: "fix " },
          { t: "code", text: "the_bug" },
          { t: "text", text: " in my_file_name" },
        ],
      ],
    });
    expect(blocks[2]).toMatchObject({ t: "list", ordered: true, start: 3 });
    expect(blocks[3]).toEqual({
      t: "quote",
      blocks: [
        {
          t: "p",
          inline: [
            { t: "text", text: "quoted " },
            { t: "em", children: [{ t: "text", text: "a" }] },
          ],
        },
      ],
    });
    expect(blocks[4]).toEqual({ t: "hr" });
  });
});
