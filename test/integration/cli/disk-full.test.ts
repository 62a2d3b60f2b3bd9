// A full disk (issue 19 #2b, #3): a small loop-mounted ext4 (no blocks reserved for root) holds the
// store; with 0 bytes left, a COPY, a FROM that must unpack, a save and opening a new store each fail
// with one line naming the step or object, exit 1, no stack; once space is freed the store verifies
// and builds again, and what it held is intact.
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { tempDir, tsbuild } from "../../helpers/tsbuild.js";

let fills = 0;

/**
 * Fills the filesystem at `dir` to its last block (a big file, then 1-byte files of a block each),
 * then frees `leaveBlocks` of those blocks (1 KiB each on this small ext4): room for the store's
 * small writes, not for a layer.
 */
function fill(dir: string, leaveBlocks = 0): void {
  const n = ++fills;
  const crumbs = join(dir, `crumbs-${n}`);
  mkdirSync(crumbs);
  spawnSync("dd", ["if=/dev/zero", `of=${join(dir, `filler-${n}`)}`, "bs=1M"], { stdio: "ignore" });
  let made = 0;
  for (; ; made++) {
    try {
      writeFileSync(join(crumbs, String(made)), "x");
    } catch {
      break;
    }
  }
  for (let i = 0; i < Math.min(leaveBlocks, made); i++) rmSync(join(crumbs, String(i)));
}

/** Removes every filler: the disk has its space back. */
function unfill(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (/^(filler|crumbs)-\d+$/.test(name)) rmSync(join(dir, name), { recursive: true, force: true });
  }
}

function expectOneLine(r: { code: number; stderr: string }, line: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(line);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toMatch(/ENOSPC/);
}

describe("a store on a full disk", () => {
  const work = tempDir("disk-full");
  const image = join(work.path, "fs.img");
  const mnt = join(work.path, "mnt");
  const store = join(mnt, "store");
  const ctx = join(work.path, "ctx");
  let baseDigest: string;

  beforeAll(() => {
    execFileSync("truncate", ["-s", "48M", image]);
    execFileSync("mkfs.ext4", ["-q", "-m", "0", image]);
    mkdirSync(mnt);
    execFileSync("mount", ["-o", "loop", image, mnt]);
    mkdirSync(ctx);
    // Random bytes: the layer stays ~12 MiB once compressed, so the saved archive cannot fit in 64 blocks.
    writeFileSync(join(ctx, "big"), randomBytes(12 << 20));
    writeFileSync(join(ctx, "mid"), randomBytes(1 << 20));
    writeFileSync(join(ctx, "Dockerfile"), "FROM scratch\nCOPY big /big\n");
    writeFileSync(join(ctx, "Copy.Dockerfile"), "FROM base:1\nCOPY mid /mid\n");
    const base = tsbuild(["build", "-t", "base:1", ctx], { root: store });
    expect(base.code, base.stderr).toBe(0);
    baseDigest = JSON.parse(tsbuild(["inspect", "base:1"], { root: store }).stdout).descriptor.digest;
  });
  afterEach(() => unfill(mnt));
  afterAll(() => {
    spawnSync("umount", [mnt]);
    work.cleanup();
  });

  it("with 0 bytes left, a build fails at once naming the store, and a new store cannot be opened", () => {
    fill(mnt);
    const build = tsbuild(["build", "-f", join(ctx, "Copy.Dockerfile"), ctx], { root: store });
    expectOneLine(
      build,
      new RegExp(`^error: store ${store}: cannot mark a build as running: no space left on device$`),
    );
    const open = tsbuild(["images"], { root: join(mnt, "new-store") });
    expectOneLine(
      open,
      new RegExp(`^error: store ${mnt}/new-store: cannot create ${mnt}/new-store: no space left on device$`),
    );
  });

  it("a COPY fails with one line naming the step, exit 1", () => {
    fill(mnt, 64);
    const r = tsbuild(["build", "--no-cache", "-f", join(ctx, "Copy.Dockerfile"), ctx], { root: store });
    expectOneLine(r, /^error: Copy\.Dockerfile:2: COPY mid \/mid: no space left on device$/);
  });

  it("a FROM that must unpack fails the build (exit 1), not the Dockerfile (exit 2)", () => {
    // A fresh snapshotter: the base image's layer must be unpacked again.
    rmSync(join(store, "snapshots"), { recursive: true, force: true });
    fill(mnt, 64);
    const r = tsbuild(["build", "-f", join(ctx, "Copy.Dockerfile"), ctx], { root: store });
    expectOneLine(
      r,
      /^error: Copy\.Dockerfile:1: FROM base:1: image docker\.io\/library\/base:1: unpacking: no space left on device$/,
    );
  });

  it("a save fails naming its output, and leaves no temp file", () => {
    const dest = join(mnt, "base.tar");
    fill(mnt, 64);
    const r = tsbuild(["save", "base:1", "-o", dest], { root: store });
    expectOneLine(r, new RegExp(`^error: output ${dest}: no space left on device$`));
    expect(readdirSync(mnt).filter((n) => n.startsWith("base.tar"))).toEqual([]);
  });

  it("once space is freed, the store verifies, still holds the image, and builds", () => {
    const v = tsbuild(["verify"], { root: store });
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(tsbuild(["inspect", "base:1"], { root: store }).stdout).descriptor.digest).toBe(
      baseDigest,
    );
    const r = tsbuild(["build", "-t", "child:1", "-f", join(ctx, "Copy.Dockerfile"), ctx], { root: store });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(store, "index.json"))).toBe(true);
  });
});
