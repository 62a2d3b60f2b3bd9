// Temp files a killed command leaves (issue 19 #10): a `save -o DEST` cut short leaves DEST.tmp-*
// beside DEST, a build killed while writing a cache record leaves cache/.tmp-*. The next save to
// DEST, the next build and prune remove them; a live writer's temps are never touched.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir, tsbuild } from "../../helpers/tsbuild.js";

/** Beyond pid_max: no process has it, so its temps are a dead writer's. */
const DEAD = 999_999_999;

describe("temp files of killed commands", () => {
  const store = tempDir("temps-store");
  const work = tempDir("temps-work");
  const ctx = join(work.path, "ctx");
  afterAll(() => {
    store.cleanup();
    work.cleanup();
  });

  it("are removed by the next build (cache records) and the next save to the same file", () => {
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, "Dockerfile"), "FROM scratch\nCOPY f /f\n");
    writeFileSync(join(ctx, "f"), "x");
    expect(tsbuild(["build", "-t", "t:1", ctx], { root: store.path }).code).toBe(0);

    const deadRecord = join(store.path, "cache", `.tmp-${DEAD}-0a0a`);
    const liveRecord = join(store.path, "cache", `.tmp-1-0b0b`); // pid 1 is alive: a live writer
    writeFileSync(deadRecord, "torn");
    writeFileSync(liveRecord, "being written");
    const rebuilt = tsbuild(["build", "-t", "t:1", ctx], { root: store.path });
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(existsSync(deadRecord)).toBe(false);
    expect(existsSync(liveRecord)).toBe(true);

    const dest = join(work.path, "out.tar");
    const deadArchive = `${dest}.tmp-${DEAD}-0c0c`;
    writeFileSync(deadArchive, "half an archive");
    const saved = tsbuild(["save", "t:1", "-o", dest], { root: store.path });
    expect(saved.code, saved.stderr).toBe(0);
    expect(readdirSync(work.path).sort()).toEqual(["ctx", "out.tar"]);
  });

  it("are removed by prune, in the cache, the store root and the blob dir", () => {
    const planted = [
      join(store.path, "cache", `.tmp-${DEAD}-1a`),
      join(store.path, `.tmp-${DEAD}-1b`),
      join(store.path, "blobs", "sha256", `${"e".repeat(64)}.tmp-${DEAD}-1c`),
    ];
    for (const p of planted) writeFileSync(p, "left by a killed writer");
    const pruned = tsbuild(["prune"], { root: store.path });
    expect(pruned.code, pruned.stderr).toBe(0);
    for (const p of planted) expect(existsSync(p), p).toBe(false);
    expect(tsbuild(["verify"], { root: store.path }).code).toBe(0);
  });
});
