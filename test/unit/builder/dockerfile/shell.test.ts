// Our own rows for the ${v#p} ${v##p} ${v%p} ${v%%p} ${v/p/r} ${v//p/r} modifiers, which the
// upstream tables do not cover; expected values as bash gives them.
import { describe, expect, it } from "vitest";
import { ShellLex } from "../../../../builder/dockerfile/shell.js";

const env = new Map([
  ["P", "linux/arm64/v8"],
  ["F", "archive.tar.gz"],
  ["S", "a*b*c"],
  ["E", ""],
  ["U", "über/straße"],
]);
const lookup = (n: string) => env.get(n);

const rows: [string, string][] = [
  ["${P#*/}", "arm64/v8"],
  ["${P##*/}", "v8"],
  ["${P%/*}", "linux/arm64"],
  ["${P%%/*}", "linux"],
  ["${F%.*}", "archive.tar"],
  ["${F%%.*}", "archive"],
  ["${F#*.}", "tar.gz"],
  ["${F##*.}", "gz"],
  ["${F#nomatch}", "archive.tar.gz"],
  ["${F%?z}", "archive.tar."],
  ["${F#archive}", ".tar.gz"],
  ["${S#*\\*}", "b*c"],
  ["${S%\\**}", "a*b"],
  ["${E#x}", ""],
  ["${UNSET%x}", ""],
  ["${P/\\//-}", "linux-arm64/v8"],
  ["${P//\\//-}", "linux-arm64-v8"],
  ["${F/.tar/}", "archive.gz"],
  ["${F//a/A}", "Archive.tAr.gz"],
  ["${F/a*./X}", "Xgz"],
  ["${F/x/y}", "archive.tar.gz"],
  ["${F//?/.}", ".............."],
  ["${U#*/}", "straße"],
  ["${U%/*}", "über"],
  ["pre-${P##*/}-post", "pre-v8-post"],
  ['"${P%%/*}"', "linux"],
];

describe("pattern modifiers", () => {
  it.each(rows)("%s → %s", (word, expected) => {
    expect(new ShellLex("\\").processWord(word, lookup)).toBe(expected);
  });

  it("rejects ${v:#p} and ${v:%p}, and a missing }", () => {
    const lex = new ShellLex("\\");
    expect(() => lex.processWord("${P:#x}", lookup)).toThrow(/unsupported modifier \(:#\)/);
    expect(() => lex.processWord("${P:%x}", lookup)).toThrow(/unsupported modifier/);
    expect(() => lex.processWord("${P#x", lookup)).toThrow(/missing '}'/);
    expect(() => lex.processWord("${P/x", lookup)).toThrow(/missing '\/'/);
  });
});

describe("escape token and matches", () => {
  it("uses the backtick escape", () => {
    expect(new ShellLex("`").processWord("a`$P\\b", lookup)).toBe("a$P\\b");
  });

  it("reports matched and unmatched names", () => {
    const r = new ShellLex("\\").processWordWithMatches("$P ${NOPE:-x} ${E}", lookup);
    expect(r.result).toBe("linux/arm64/v8 x ");
    expect([...r.matched].sort()).toEqual(["E", "P"]);
    expect([...r.unmatched]).toEqual(["NOPE"]);
  });

  it("names the word in errors", () => {
    expect(() => new ShellLex("\\").processWord("x${", lookup)).toThrow(
      "failed to process \"x${\": syntax error: missing '}'",
    );
  });
});

describe("expansion bounds", () => {
  // `ENV a=$a$a` repeated doubled the value each time and ran until memory was gone.
  it("refuses a word that grows past 4 MiB, naming the variable", () => {
    const lex = new ShellLex();
    const env = new Map([["a", "x".repeat(3 << 20)]]);
    expect(() => lex.processWord("$a$a", (n) => env.get(n))).toThrow(
      "expanding $a makes a word longer than 4 MiB (the limit)",
    );
    expect(() => lex.processWord('"${a}${a}"', (n) => env.get(n))).toThrow(
      /expanding \$a makes a word longer/,
    );
    expect(lex.processWord("$a", (n) => env.get(n))).toHaveLength(3 << 20);
  });
});
