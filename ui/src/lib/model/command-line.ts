/**
 * Splits a command line typed in the New session form into the program and its arguments, the
 * way a shell would for the simple cases: words split on blanks, '…' taken literally, "…" with
 * \" and \\ (and \$, \`) escaped, a backslash outside quotes keeping the next character. No
 * variables, globs, pipes or redirections: the host runs the program directly, not a shell, so
 * `sh -c '…'` is how to ask for those.
 */

export type SplitResult = { ok: true; words: string[] } | { ok: false; error: string };

export function splitCommandLine(line: string): SplitResult {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === "\\" && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!))
        word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\") {
      if (i + 1 >= line.length) {
        return {
          ok: false,
          error: "The command line ends with a backslash. Remove it, or quote it as '\\'.",
        };
      }
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) {
    const name = quote === "'" ? "single" : "double";
    return {
      ok: false,
      error: `The command line has a ${name} quote (${quote}) that is never closed. Close it or remove it.`,
    };
  }
  if (inWord) words.push(word);
  if (words.length === 0) {
    return { ok: false, error: "Type the program to run, for example claude or bash." };
  }
  return { ok: true, words };
}
