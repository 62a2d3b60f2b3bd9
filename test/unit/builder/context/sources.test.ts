import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PatternMatcher } from "../../../../builder/context/dockerignore.js";
import { compileComponent, hasWildcards } from "../../../../builder/context/glob.js";
import { selectSources } from "../../../../builder/context/sources.js";
import { makeTree, tempDir } from "./fixtures.js";

describe("Go filepath.Match components", () => {
  const m = (pattern: string, name: string) => compileComponent(pattern, pattern).test(name);

  it("matches *, ? and classes as Go does", () => {
    expect(m("*.txt", "a.txt")).toBe(true);
    expect(m("*.txt", ".txt")).toBe(true);
    expect(m("?.txt", "ab.txt")).toBe(false);
    expect(m("[a-c].txt", "b.txt")).toBe(true);
    expect(m("[^a].txt", "a.txt")).toBe(false);
    expect(m("[^a].txt", "b.txt")).toBe(true);
    // Go has no "[!...]" negation: "!" is an ordinary member.
    expect(m("[!a].txt", "!.txt")).toBe(true);
    expect(m("[!a].txt", "b.txt")).toBe(false);
    expect(m("a\\*b", "a*b")).toBe(true);
    expect(m("a\\*b", "axb")).toBe(false);
    expect(m("file(1)+.txt", "file(1)+.txt")).toBe(true);
  });

  it("tells wildcards from escaped ones and rejects malformed classes, naming the pattern", () => {
    expect(hasWildcards("a\\*b")).toBe(false);
    expect(hasWildcards("a[b]")).toBe(true);
    for (const bad of ["[", "[]", "[a-", "[z-a]", "a\\"]) {
      expect(() => compileComponent(bad, `src/${bad}`), bad).toThrow(
        `bad source pattern ${JSON.stringify(`src/${bad}`)}`,
      );
    }
  });
});

describe("selectSources", () => {
  let root: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir: root, cleanup } = tempDir("sources"));
    makeTree(root, {
      "a/x.txt": "1",
      "b/x.txt": "2",
      "b/y.md": "3",
      "linkdir/keep": { symlink: "../a" },
      "real.txt": "r",
      "link.txt": { symlink: "real.txt" },
      dirlink: { symlink: "a" },
    });
  });
  afterEach(() => cleanup());

  const rels = (patterns: string[], opts = {}) => selectSources(root, patterns, opts).map((s) => s.rel);

  it("expands wildcards over several components, only through real directories", () => {
    expect(rels(["*/x.txt"])).toEqual(["a/x.txt", "b/x.txt"]);
    expect(rels(["*/*"])).toEqual(["a/x.txt", "b/x.txt", "b/y.md", "linkdir/keep"]);
  });

  it("copies a symlink source as a link unless asked to follow it, keeping the name it was asked by", () => {
    const [asLink] = selectSources(root, ["link.txt"]);
    expect(asLink?.stat.isSymbolicLink()).toBe(true);
    const [followed] = selectSources(root, ["link.txt"], { followSymlinks: true });
    expect(followed?.rel).toBe("real.txt");
    expect(followed?.name).toBe("link.txt");
    expect(rels(["dirlink/x.txt"])).toEqual(["a/x.txt"]);
  });

  it("hides ignored paths from wildcards", () => {
    const ignore = new PatternMatcher(["b", "!b/*.md"]);
    expect(rels(["*/x.txt"], { ignore })).toEqual(["a/x.txt"]);
    expect(rels(["b/*"], { ignore })).toEqual(["b/y.md"]);
    expect(selectSources(root, ["b"], { ignore })[0]?.entries.map((e) => e.rel)).toEqual(["y.md"]);
  });

  it("clamps escapes in a stage's rootfs instead of refusing them", () => {
    expect(rels(["../../a/x.txt"], { onEscape: "clamp" })).toEqual(["a/x.txt"]);
    expect(selectSources(root, ["/"], { onEscape: "clamp" })[0]?.abs).toBe(root);
    expect(join(root, rels(["."])[0]!)).toBe(root);
  });
});
