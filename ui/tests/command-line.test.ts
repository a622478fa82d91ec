import { describe, expect, it } from "vitest";
import { splitCommandLine } from "../src/lib/model/command-line";

const words = (line: string) => {
  const r = splitCommandLine(line);
  if (!r.ok) throw new Error(r.error);
  return r.words;
};
const error = (line: string) => {
  const r = splitCommandLine(line);
  return r.ok ? null : r.error;
};

describe("splitting a command line into program and arguments", () => {
  it("splits on any run of blanks and ignores blanks at the ends", () => {
    expect(words("claude")).toEqual(["claude"]);
    expect(words("  claude   --model\tsonnet  ")).toEqual(["claude", "--model", "sonnet"]);
  });
  it("keeps single-quoted text as one word, literally", () => {
    expect(words("sh -c 'echo hello-from-ui; exec cat'")).toEqual([
      "sh",
      "-c",
      "echo hello-from-ui; exec cat",
    ]);
    expect(words(`echo 'a "b" \\n $HOME'`)).toEqual(["echo", 'a "b" \\n $HOME']);
  });
  it('keeps double-quoted text as one word, with \\" and \\\\ escaped', () => {
    expect(words(`echo "say \\"hi\\" to C:\\\\ and \\x"`)).toEqual([
      "echo",
      'say "hi" to C:\\ and \\x',
    ]);
  });
  it("joins quoted and unquoted parts that touch into one word", () => {
    expect(words(`--name="my agent"x 'a'"b"c`)).toEqual(["--name=my agentx", "abc"]);
  });
  it("keeps empty quotes as an empty argument", () => {
    expect(words(`printf '' ""`)).toEqual(["printf", "", ""]);
  });
  it("takes the character after a backslash literally outside quotes", () => {
    expect(words(`ls my\\ folder \\'x`)).toEqual(["ls", "my folder", "'x"]);
  });
  it("passes shell syntax through as plain words (the host runs no shell)", () => {
    expect(words("echo $HOME | cat > out")).toEqual(["echo", "$HOME", "|", "cat", ">", "out"]);
  });
  it("says what is wrong with a line it cannot split", () => {
    expect(error("sh -c 'echo hi")).toMatch(/single quote .* never closed/);
    expect(error('echo "hi')).toMatch(/double quote .* never closed/);
    expect(error("echo hi\\")).toMatch(/ends with a backslash/);
    expect(error("   ")).toMatch(/Type the program to run/);
    expect(error("")).toMatch(/Type the program to run/);
  });
});
