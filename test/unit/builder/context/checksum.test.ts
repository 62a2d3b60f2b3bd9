import { chmodSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ContextHasher } from "../../../../builder/context/checksum.js";
import { PatternMatcher } from "../../../../builder/context/dockerignore.js";
import { fileHashStats } from "../../../../builder/context/file-hash.js";
import { makeTree, tempDir } from "./fixtures.js";

let ctx: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir: ctx, cleanup } = tempDir("checksum"));
  makeTree(ctx, {
    "a.txt": "alpha",
    "b.txt": "beta",
    "notes.md": "notes",
    "src/main.ts": "main",
    "src/lib/util.ts": "util",
    "src/link": { symlink: "main.ts" },
    "src/secret.key": "k1",
    "docs/guide.md": "guide",
    "docs/keep.md": "keep",
  });
});
afterEach(() => cleanup());

const sum = (sources: string[], ignore?: string[], root = ctx) =>
  new ContextHasher(root, ignore && new PatternMatcher(ignore)).checksumSources(sources);

describe("ContextHasher.checksumSources", () => {
  it("ignores mtimes: touching or re-creating files with equal content keeps the checksum", async () => {
    const before = await sum(["."]);
    utimesSync(join(ctx, "a.txt"), 1, 1);
    expect(await sum(["."])).toBe(before);
    rmSync(join(ctx, "b.txt"));
    writeFileSync(join(ctx, "b.txt"), "beta");
    expect(await sum(["."])).toBe(before);
  });

  it("is the same for an equal tree elsewhere (other inodes, times)", async () => {
    const other = tempDir("checksum-other");
    try {
      makeTree(other.dir, { "src/main.ts": "main", "src/lib/util.ts": "util", "src/secret.key": "k1" });
      symlinkSync("main.ts", join(other.dir, "src/link"));
      expect(await sum(["src"], undefined, other.dir)).toBe(await sum(["src"]));
    } finally {
      other.cleanup();
    }
  });

  it("changes with content, mode or a symlink target", async () => {
    const before = await sum(["src"]);
    writeFileSync(join(ctx, "src/lib/util.ts"), "util2");
    const afterContent = await sum(["src"]);
    expect(afterContent).not.toBe(before);
    chmodSync(join(ctx, "src/main.ts"), 0o755);
    const afterMode = await sum(["src"]);
    expect(afterMode).not.toBe(afterContent);
    rmSync(join(ctx, "src/link"));
    symlinkSync("lib/util.ts", join(ctx, "src/link"));
    expect(await sum(["src"])).not.toBe(afterMode);
  });

  it("changes when a file is added to a copied directory or renamed", async () => {
    const before = await sum(["src"]);
    writeFileSync(join(ctx, "src/new.ts"), "");
    const added = await sum(["src"]);
    expect(added).not.toBe(before);
    rmSync(join(ctx, "src/new.ts"));
    writeFileSync(join(ctx, "src/new2.ts"), "");
    expect(await sum(["src"])).not.toBe(added);
  });

  it("does not change when files the sources do not select change", async () => {
    const before = await sum(["a.txt", "src"]);
    writeFileSync(join(ctx, "b.txt"), "changed");
    writeFileSync(join(ctx, "docs/new.md"), "new");
    expect(await sum(["a.txt", "src"])).toBe(before);
  });

  it("does not change when ignored files change, but does for re-included ones", async () => {
    const ignore = ["src/*.key", "docs", "!docs/keep.md"];
    const before = await sum(["."], ignore);
    writeFileSync(join(ctx, "src/secret.key"), "k2");
    writeFileSync(join(ctx, "docs/guide.md"), "guide2");
    expect(await sum(["."], ignore)).toBe(before);
    writeFileSync(join(ctx, "docs/keep.md"), "keep2");
    expect(await sum(["."], ignore)).not.toBe(before);
  });

  it("selects by wildcard: only matching files count", async () => {
    const before = await sum(["*.txt"]);
    writeFileSync(join(ctx, "notes.md"), "changed");
    expect(await sum(["*.txt"])).toBe(before);
    writeFileSync(join(ctx, "c.txt"), "gamma");
    expect(await sum(["*.txt"])).not.toBe(before);
    expect(await sum(["src/*/util.?s"])).toBe(await sum(["src/lib/util.ts"]));
  });

  it("honours --exclude patterns relative to each source", async () => {
    const hasher = new ContextHasher(ctx);
    const before = await hasher.checksumSources(["src"], { excludes: ["**/*.key"] });
    writeFileSync(join(ctx, "src/secret.key"), "k2");
    expect(await hasher.checksumSources(["src"], { excludes: ["**/*.key"] })).toBe(before);
  });

  it("streams large files and notices a change in their last byte", async () => {
    const big = Buffer.alloc(3 << 20, 1);
    writeFileSync(join(ctx, "big.bin"), big);
    const before = await sum(["big.bin"]);
    big[big.length - 1] = 2;
    writeFileSync(join(ctx, "big.bin"), big);
    expect(await sum(["big.bin"])).not.toBe(before);
  });

  it("fails for a source that matches nothing, naming it", async () => {
    await expect(sum(["missing.txt"])).rejects.toThrow(
      "file not found in build context: stat missing.txt: no such file or directory",
    );
    await expect(sum(["src/secret.key"], ["**/*.key"])).rejects.toThrow(
      "file not found in build context or excluded by .dockerignore: stat src/secret.key",
    );
    await expect(sum(["*.nope"])).rejects.toThrow('no source files were specified: "*.nope"');
  });

  it("refuses sources that leave the context, naming them", async () => {
    await expect(sum(["../etc/passwd"])).rejects.toThrow(
      "forbidden path outside the build context: ../etc/passwd",
    );
    symlinkSync("../../..", join(ctx, "out"));
    await expect(sum(["out/etc/passwd"])).rejects.toThrow("out/etc/passwd: path escapes the build context");
  });

  it("with a memo file, a new hasher reads no unchanged file again", async () => {
    const memo = join(ctx, "..", `${ctx.split("/").pop()}.memo.json`);
    try {
      const first = new ContextHasher(ctx, undefined, memo);
      const filesBefore = fileHashStats.files;
      const digest = await first.checksumSources(["."]);
      expect(fileHashStats.files - filesBefore).toBe(8);

      const second = new ContextHasher(ctx, undefined, memo);
      const again = fileHashStats.files;
      expect(await second.checksumSources(["."])).toBe(digest);
      expect(fileHashStats.files).toBe(again);

      writeFileSync(join(ctx, "a.txt"), "alpha2");
      const third = new ContextHasher(ctx, undefined, memo);
      expect(await third.checksumSources(["."])).not.toBe(digest);
      expect(fileHashStats.files).toBe(again + 1);
    } finally {
      rmSync(memo, { force: true });
    }
  });
});
