import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  utimesSync,
  lchownSync,
} from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PatternMatcher } from "../../../../builder/context/dockerignore.js";
import { type CopyIntoRootOptions, copyIntoRoot } from "../../../../builder/ops/copy.js";
import { makeTree, tempDir } from "../../../unit/builder/context/fixtures.js";

let base: string;
let ctx: string;
let dest: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir: base, cleanup } = tempDir("copy"));
  ctx = join(base, "ctx");
  dest = join(base, "rootfs");
  mkdirSync(dest);
  makeTree(ctx, {
    "a.txt": "alpha",
    "b.txt": "beta",
    "run.sh": "#!/bin/sh\n",
    "src/main.ts": "main",
    "src/lib/util.ts": "util",
    "src/link": { symlink: "main.ts" },
    "src/empty": { dir: true },
    "docs/guide.md": "guide",
    "docs/keep.md": "keep",
  });
  chmodSync(join(ctx, "run.sh"), 0o750);
  utimesSync(join(ctx, "a.txt"), 1_000_000, 1_000_000);
});
afterEach(() => cleanup());

const copy = (sources: string[], to: string, more: Partial<CopyIntoRootOptions> = {}) =>
  copyIntoRoot({ sourceRoot: ctx, sources, dest: to, workdir: "/", destRoot: dest, ...more });
const read = (p: string) => readFileSync(join(dest, p), "utf8");

describe("copyIntoRoot", () => {
  it("copies a file to a new file path, keeping mode and mtime, owned by root", async () => {
    expect(await copy(["run.sh"], "/bin/start")).toEqual({ files: 1, bytes: 10 });
    const st = statSync(join(dest, "bin/start"));
    expect(st.mode & 0o7777).toBe(0o750);
    expect([st.uid, st.gid]).toEqual([0, 0]);
    expect(statSync(join(dest, "bin")).mode & 0o7777).toBe(0o755);
    await copy(["a.txt"], "/a");
    expect(statSync(join(dest, "a")).mtimeMs).toBe(1_000_000_000);
  });

  it("copies a file into a directory named with a trailing slash, or an existing one", async () => {
    await copy(["a.txt"], "/deep/dir/");
    expect(read("deep/dir/a.txt")).toBe("alpha");
    await copy(["b.txt"], "/deep/dir");
    expect(read("deep/dir/b.txt")).toBe("beta");
  });

  it("joins a relative destination to the workdir", async () => {
    await copy(["a.txt"], "sub/", { workdir: "/work" });
    await copy(["b.txt"], ".", { workdir: "/work" });
    expect(readdirSync(join(dest, "work")).sort()).toEqual(["b.txt", "sub"]);
    expect(read("work/sub/a.txt")).toBe("alpha");
  });

  it("copies a directory's contents, not the directory, with empty dirs and links as links", async () => {
    await copy(["src"], "/app");
    expect(readdirSync(join(dest, "app")).sort()).toEqual(["empty", "lib", "link", "main.ts"]);
    expect(read("app/lib/util.ts")).toBe("util");
    expect(lstatSync(join(dest, "app/empty")).isDirectory()).toBe(true);
    expect(lstatSync(join(dest, "app/link")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dest, "app/link"))).toBe("main.ts");
  });

  it("expands wildcards and needs a directory destination for several sources", async () => {
    await copy(["*.txt"], "/out/");
    expect(readdirSync(join(dest, "out")).sort()).toEqual(["a.txt", "b.txt"]);
    await expect(copy(["a.txt", "b.txt"], "/file")).rejects.toThrow(
      "When using COPY with more than one source file, the destination must be a directory and end with a /: /file",
    );
    await expect(copy(["*.txt"], "/file")).rejects.toThrow("must be a directory");
    await copy(["a.txt", "src/main.ts"], "/out");
    expect(read("out/main.ts")).toBe("main");
  });

  it("resolves the destination's symlinks inside the rootfs and never writes outside it", async () => {
    makeTree(dest, { etc: { dir: true }, app: { symlink: "/etc" }, up: { symlink: "../../../.." } });
    await copy(["a.txt"], "/app/");
    expect(read("etc/a.txt")).toBe("alpha");
    await copy(["b.txt"], "/up/../../b-at-root");
    expect(read("b-at-root")).toBe("beta");
    expect(existsSync(join(base, "b-at-root"))).toBe(false);
    expect(readdirSync(base).sort()).toEqual(["ctx", "rootfs"]);
  });

  it("replaces a symlink at the target path instead of writing through it", async () => {
    makeTree(dest, { "app/a.txt": { symlink: "../../ctx/b.txt" }, "app/lib": { symlink: "/elsewhere" } });
    await copy(["a.txt"], "/app/");
    expect(lstatSync(join(dest, "app/a.txt")).isFile()).toBe(true);
    expect(readFileSync(join(ctx, "b.txt"), "utf8")).toBe("beta");
    await expect(copy(["src"], "/app")).rejects.toThrow(
      "cannot copy a directory to /app/lib: it exists and is not a directory",
    );
  });

  it("applies --chown to copies and to the parents it creates, and --chmod per entry", async () => {
    await copy(["src"], "/opt/app/", { chown: { uid: 1000, gid: 1001 }, chmod: "u=rwX,go=rX" });
    for (const p of ["opt", "opt/app", "opt/app/lib", "opt/app/lib/util.ts"]) {
      const st = lstatSync(join(dest, p));
      expect([st.uid, st.gid], p).toEqual([1000, 1001]);
    }
    expect(lstatSync(join(dest, "opt/app/link")).uid).toBe(1000);
    expect(statSync(join(dest, "opt/app/lib")).mode & 0o7777).toBe(0o755);
    expect(statSync(join(dest, "opt/app/main.ts")).mode & 0o7777).toBe(0o644);
    await copy(["a.txt"], "/x", { chmod: "4711" });
    expect(statSync(join(dest, "x")).mode & 0o7777).toBe(0o4711);
  });

  it("keeps owners from a stage's rootfs but resets them for the build context", async () => {
    lchownSync(join(ctx, "a.txt"), 1234, 5678);
    await copy(["a.txt"], "/from-ctx");
    await copy(["a.txt"], "/from-stage", { sourceKind: "rootfs" });
    expect(statSync(join(dest, "from-ctx")).uid).toBe(0);
    expect([statSync(join(dest, "from-stage")).uid, statSync(join(dest, "from-stage")).gid]).toEqual([
      1234, 5678,
    ]);
  });

  it("keeps hardlinks between copied files", async () => {
    linkSync(join(ctx, "src/main.ts"), join(ctx, "src/lib/main-link.ts"));
    await copy(["src"], "/app");
    expect(statSync(join(dest, "app/lib/main-link.ts")).ino).toBe(statSync(join(dest, "app/main.ts")).ino);
    expect(statSync(join(dest, "app/main.ts")).nlink).toBe(2);
  });

  it("leaves out .dockerignore'd files but copies re-included ones with their parents", async () => {
    const matcher = new PatternMatcher(["docs", "!docs/keep.md", "*.txt"]);
    await copy(["."], "/ctx", { matcher });
    expect(readdirSync(join(dest, "ctx")).sort()).toEqual(["docs", "run.sh", "src"]);
    expect(readdirSync(join(dest, "ctx/docs"))).toEqual(["keep.md"]);
    await expect(copy(["a.txt"], "/a", { matcher })).rejects.toThrow(
      "file not found in build context or excluded by .dockerignore: stat a.txt",
    );
  });

  it("leaves out --exclude'd files relative to each source", async () => {
    await copy(["src", "*.txt"], "/ex/", { excludes: ["lib", "b.*"] });
    expect(readdirSync(join(dest, "ex")).sort()).toEqual(["a.txt", "empty", "link", "main.ts"]);
  });

  it("names a missing source and a destination below a file", async () => {
    await expect(copy(["nope.txt"], "/x")).rejects.toThrow("stat nope.txt: no such file or directory");
    await expect(copy(["a.txt/x"], "/x")).rejects.toThrow("stat a.txt/x: no such file or directory");
    await copy(["a.txt"], "/file");
    await expect(copy(["b.txt"], "/file/sub/")).rejects.toThrow(
      "cannot create directory /file: not a directory",
    );
  });
});
