import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ShellLex } from "../../builder/dockerfile/shell.js";
import type { EnvLookup } from "../../builder/dockerfile/types.js";
import { dockerfileData } from "./paths.js";

const shellDir = path.join(dockerfileData, "shell");
const ERROR = Symbol("error");

interface Row<T> {
  line: number;
  input: string;
  expected: T | typeof ERROR;
}

function loadEnvVarTest(): (Row<string> & { platform: string })[] {
  const rows: (Row<string> & { platform: string })[] = [];
  readFileSync(path.join(shellDir, "envVarTest"), "utf8")
    .split("\n")
    .forEach((raw, i) => {
      if (raw.startsWith("#") || raw.trim() === "") return;
      const fields = raw
        .trim()
        .split("|")
        .map((f) => f.trim());
      if (fields.length !== 3) throw new Error(`envVarTest:${i + 1}: expected 3 fields`);
      const [platform, input, expected] = fields as [string, string, string];
      rows.push({ line: i + 1, platform, input, expected: expected === "error" ? ERROR : expected });
    });
  return rows;
}

/** wordsTest rows, each with the environment its preceding ENV lines built up. */
function loadWordsTest(): (Row<string[]> & { env: Map<string, string> })[] {
  const rows: (Row<string[]> & { env: Map<string, string> })[] = [];
  const env = new Map<string, string>();
  readFileSync(path.join(shellDir, "wordsTest"), "utf8")
    .split("\n")
    .forEach((raw, i) => {
      if (raw.startsWith("#") || raw.trim() === "") return;
      if (raw.startsWith("ENV ")) {
        const def = raw.slice(4).trimStart();
        const eq = def.indexOf("=");
        env.set(def.slice(0, eq), def.slice(eq + 1));
        return;
      }
      const parts = raw.split("|");
      if (parts.length !== 2) throw new Error(`wordsTest:${i + 1}: expected one "|"`);
      const expected = parts[1]!.trimStart();
      rows.push({
        line: i + 1,
        input: parts[0]!.trim(),
        expected: expected === "error" ? ERROR : expected.split(","),
        env: new Map(env),
      });
    });
  return rows;
}

const fixedEnv = new Map([
  ["PWD", "/home"],
  ["SHELL", "bash"],
  ["KOREAN", "한국어"],
  ["NULL", ""],
]);
const lookupIn =
  (env: Map<string, string>): EnvLookup =>
  (name) =>
    env.get(name);

describe("envVarTest", () => {
  const all = loadEnvVarTest();
  const rows = all.filter((r) => r.platform === "A" || r.platform === "U");
  it("has 226 A rows and 2 U rows", () => {
    expect(all.filter((r) => r.platform === "A")).toHaveLength(226);
    expect(all.filter((r) => r.platform === "U")).toHaveLength(2);
  });

  it.each(rows.map((r) => [r.line, r.input, r] as const))("line %i: %s", (_line, _input, row) => {
    const lex = new ShellLex("\\");
    if (row.expected === ERROR) expect(() => lex.processWord(row.input, lookupIn(fixedEnv))).toThrow();
    else expect(lex.processWord(row.input, lookupIn(fixedEnv))).toBe(row.expected);
  });
});

describe("wordsTest", () => {
  const rows = loadWordsTest();
  it("has 24 rows", () => expect(rows).toHaveLength(24));

  it.each(rows.map((r) => [r.line, r.input, r] as const))("line %i: %s", (_line, _input, row) => {
    const lex = new ShellLex("\\");
    if (row.expected === ERROR) expect(() => lex.processWords(row.input, lookupIn(row.env))).toThrow();
    else expect(lex.processWords(row.input, lookupIn(row.env))).toEqual(row.expected);
  });
});
