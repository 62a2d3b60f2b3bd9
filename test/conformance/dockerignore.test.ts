// The .dockerignore case table and parsing checks of shared/conformance/README.md §4.
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PatternMatcher, parseIgnorePatterns, readIgnoreFile } from "../../builder/context/dockerignore.js";

// [#, patterns, path, excluded?]
const table: [number, string[], string, boolean][] = [
  [1, ["*.md"], "README.md", true],
  [2, ["*.md"], "docs/guide.md", false],
  [3, ["**/*.md"], "docs/a/guide.md", true],
  [4, ["**/*.md"], "README.md", true],
  [5, ["node_modules"], "node_modules/lodash/index.js", true],
  [6, ["node_modules"], "src/node_modules/x.js", false],
  [7, ["**/node_modules"], "src/node_modules/x.js", true],
  [8, ["/tmp"], "tmp/cache/a", true],
  [9, ["build/"], "build", true],
  [10, ["build/"], "build/out.o", true],
  [11, ["docs/**"], "docs", false],
  [12, ["docs/**"], "docs/a/b.txt", true],
  [13, ["**"], "anything/at/all", true],
  [14, ["temp?"], "tempa", true],
  [15, ["temp?"], "temp", false],
  [16, ["temp?"], "tempab", false],
  [17, ["*/temp*"], "somedir/temporary.txt", true],
  [18, ["*/temp*"], "temporary.txt", false],
  [19, ["*/temp*"], "a/b/temp.txt", false],
  [20, ["*/*/temp*"], "a/b/temp.txt", true],
  [21, ["[a-c].txt"], "b.txt", true],
  [22, ["[a-c].txt"], "d.txt", false],
  [23, ["[^a].txt"], "b.txt", true],
  [24, ["[!a].txt"], "b.txt", false],
  [25, ["[!a].txt"], "!.txt", true],
  [26, ["a/**/b"], "a/b", true],
  [27, ["a/**/b"], "a/x/y/b", true],
  [28, ["a/**/b"], "a/x/b/c.txt", true],
  [29, ["*", "!README.md"], "README.md", false],
  [30, ["*", "!README.md"], "main.go", true],
  [31, ["!README.md", "*"], "README.md", true],
  [32, ["*.md", "!README*.md", "README-secret.md"], "README-secret.md", true],
  [33, ["*.md", "!README*.md", "README-secret.md"], "README-x.md", false],
  [34, ["*.md", "README-secret.md", "!README*.md"], "README-secret.md", false],
  [35, ["docs", "!docs/keep.md"], "docs/keep.md", false],
  [36, ["docs", "!docs/keep.md"], "docs/other.md", true],
  [37, ["*", "!src"], "src/a/b.ts", false],
  [38, ["*", "!**/*.py"], "sub/a.py", false],
  [39, ["*", "!**/*.py"], "sub/a.txt", true],
  [40, ["dir", "!dir/**/*.go"], "dir/a/b.go", false],
  [41, ["a\\*b"], "a*b", true],
  [42, ["a\\*b"], "axb", false],
  [43, ["foo.bar"], "fooxbar", false],
  [44, ["./a/../b"], "b", true],
  [45, [".git"], ".git/HEAD", true],
  [46, ["*"], ".hidden", true],
  [47, ["*.log", "!important.log"], "logs/important.log", false],
  [48, ["**/*.log", "!important.log"], "logs/important.log", true],
  [49, ["src/*.ts"], "src/a/b.ts", false],
  [50, ["src/*"], "src/a/b.ts", true],
];

describe(".dockerignore case table", () => {
  it("has 50 rows", () => expect(table).toHaveLength(50));

  it.each(table)("#%i %j %s → excluded=%s", (_n, patterns, file, excluded) => {
    // Patterns go through the file reader, as in a real build (that is where cleaning happens).
    const matcher = new PatternMatcher(parseIgnorePatterns(patterns.join("\n")));
    expect(matcher.matches(file)).toBe(excluded);
  });

  it("never excludes the context root", () => {
    expect(new PatternMatcher(["**"]).matches(".")).toBe(false);
  });
});

describe(".dockerignore parsing (§4.2)", () => {
  it("reads comments, anchoring, exceptions, trailing slashes and spaces", () => {
    const text = ["# c", " #notcomment", "/abs/path", "!/abs", "dir/", "  spaced  ", "! neg", ""].join("\n");
    expect(parseIgnorePatterns(text)).toEqual(["#notcomment", "abs/path", "!abs", "dir", "spaced", "!neg"]);
  });

  it("strips a byte-order mark and CRLF line ends", () => {
    expect(parseIgnorePatterns("\ufeffa\r\nb\r\n")).toEqual(["a", "b"]);
  });

  it("rejects a bare !", () => {
    expect(() => parseIgnorePatterns("a\n!\n")).toThrow(/illegal exclusion pattern/);
    expect(() => parseIgnorePatterns("  !  ")).toThrow();
  });
});

describe("walker pruning (§4.4)", () => {
  it("may skip an excluded dir only if no exception can reach inside it", () => {
    expect(new PatternMatcher(["docs"]).mayContainIncluded("docs")).toBe(false);
    expect(new PatternMatcher(["docs", "!other/x"]).mayContainIncluded("docs")).toBe(false);
    expect(new PatternMatcher(["docs", "!docs/keep.md"]).mayContainIncluded("docs")).toBe(true);
    expect(new PatternMatcher(["*", "!**/*.py"]).mayContainIncluded("sub")).toBe(true);
    expect(new PatternMatcher(["*", "!other/**"]).mayContainIncluded("sub")).toBe(false);
  });
});

describe("which ignore file (§4.1)", () => {
  const ctx = mkdtempSync(path.join(tmpdir(), "tsbuild-ignore-"));
  mkdirSync(path.join(ctx, "build"));
  writeFileSync(path.join(ctx, ".dockerignore"), "root-pattern\n");
  writeFileSync(path.join(ctx, "build/app.Dockerfile.dockerignore"), "specific\n");

  it("prefers <Dockerfile>.dockerignore beside the Dockerfile", () => {
    expect(readIgnoreFile(ctx, path.join(ctx, "build/app.Dockerfile"))).toEqual(["specific"]);
  });

  it("falls back to the context's .dockerignore", () => {
    expect(readIgnoreFile(ctx, path.join(ctx, "Dockerfile"))).toEqual(["root-pattern"]);
    expect(readIgnoreFile(ctx)).toEqual(["root-pattern"]);
  });

  it("gives no patterns without a file", () => {
    expect(readIgnoreFile(path.join(ctx, "build"))).toEqual([]);
  });
});
