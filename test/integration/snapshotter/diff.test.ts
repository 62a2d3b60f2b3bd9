import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { diffUpper, type DiffResult } from "../../../snapshotter/diff.js";
import { withMounts } from "../../../snapshotter/mount.js";
import type { Compression } from "../../../src/oci/types.js";
import { MediaType } from "../../../src/oci/types.js";
import {
  commitTree,
  type Env,
  type ListedEntry,
  layerTar,
  listTar,
  makeEnv,
  tarXattrs,
  WORKED_LOWER,
  CAP_VALUE,
  EVERY_CHANGE_NAMES,
  everyChange,
  activeDirs,
} from "./helpers.js";

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

let env: Env;
beforeEach(async () => {
  env = await makeEnv();
  await commitTree(env.sn, "base", WORKED_LOWER);
});
afterEach(() => env.cleanup());

/** Prepares "child" over base, runs `fn` in the mounted child, unmounts. */
async function change(fn: (root: string) => void): Promise<void> {
  await env.sn.prepare("child", "base");
  await withMounts(await env.sn.mounts("child"), async (root) => fn(root));
}

async function diff(compression: Compression = "gzip", sourceDateEpoch?: number, inMemoryLimit?: number) {
  const res = await diffUpper({
    upperDir: (await activeDirs(env.sn, "child")).upper!,
    lowerDirs: (await activeDirs(env.sn, "child")).lowers,
    store: env.store,
    compression,
    sourceDateEpoch,
    inMemoryLimit,
  });
  const tar = await layerTar(env.store, res.layer);
  return { res, tar, entries: await listTar(tar) };
}

const names = (entries: ListedEntry[]) => entries.map((e) => e.name);

function checkDigests(res: DiffResult, tar: Buffer): void {
  const blob = readFileSync(env.store.blobPath(res.layer.digest));
  expect(sha(blob)).toBe(res.layer.digest);
  expect(blob.length).toBe(res.layer.size);
  expect(sha(tar)).toBe(res.diffId);
  expect(tar.length).toBe(res.uncompressedSize);
}

describe("README §5.6 worked examples", () => {
  it("rm file1 a/file2 && rm -r b && touch file4", async () => {
    await change((r) => {
      rmSync(join(r, "file1"));
      rmSync(join(r, "a/file2"));
      rmSync(join(r, "b"), { recursive: true });
      writeFileSync(join(r, "file4"), "");
    });
    const { entries } = await diff();
    expect(names(entries)).toEqual([".wh.b", ".wh.file1", "a/", "a/.wh.file2", "file4"]);
  });

  it("rm -r bin && mkdir bin && touch bin/new", async () => {
    await change((r) => {
      rmSync(join(r, "bin"), { recursive: true });
      mkdirSync(join(r, "bin"));
      writeFileSync(join(r, "bin/new"), "");
    });
    const { entries } = await diff();
    expect(names(entries)).toEqual(["bin/", "bin/.wh..wh..opq", "bin/new"]);
  });

  it("touch tmp && rm tmp", async () => {
    await change((r) => {
      writeFileSync(join(r, "tmp"), "x");
      rmSync(join(r, "tmp"));
    });
    const { entries, res } = await diff();
    expect(entries).toEqual([]);
    expect(res.entries).toBe(0);
  });

  it("chmod 755 c/file3", async () => {
    await change((r) => chmodSync(join(r, "c/file3"), 0o755));
    const { entries } = await diff();
    expect(names(entries)).toEqual(["c/", "c/file3"]);
    expect(entries[1]).toMatchObject({ type: "file", mode: 0o755, content: "3" });
  });
});

describe("every kind of change", () => {
  it("gives the expected entries, in order, with whiteouts and no overlay xattrs", async () => {
    await change(everyChange);
    const { entries, tar, res } = await diff("gzip");
    expect(names(entries)).toEqual(EVERY_CHANGE_NAMES);
    const byName = new Map(entries.map((e) => [e.name, e]));
    for (const wh of [".wh.b", ".wh.file1", "bin/.wh..wh..opq"]) {
      expect(byName.get(wh)).toMatchObject({ type: "file", size: 0, mode: 0, uid: 0, gid: 0, mtime: 0 });
    }
    expect(byName.get("a/file2")).toMatchObject({ type: "file", content: "2 modified" });
    expect(byName.get("c/file3")).toMatchObject({ mode: 0o700, content: "3" });
    expect(byName.get("sym")).toMatchObject({ type: "symlink", linkname: "new.txt" });
    expect(byName.get("hard1")).toMatchObject({ type: "file", content: "h" });
    expect(byName.get("hard2")).toMatchObject({ type: "link", linkname: "hard1" });
    for (const e of entries) {
      expect(e.uname ?? "").toBe("");
      for (const key of Object.keys(e.pax ?? {})) expect(key).not.toMatch(/overlay|selinux/);
    }
    const xattrs = await tarXattrs(tar);
    expect(xattrs.get("capfile")?.get("security.capability")).toEqual(CAP_VALUE);
    expect(xattrs.get("capfile")?.has("user.note")).toBe(false); // only security.capability by default
    expect(xattrs.get("bin/")?.size ?? 0).toBe(0); // the opaque xattr is not copied
    expect(res.entries).toBe(EVERY_CHANGE_NAMES.length);
    expect(res.layer.mediaType).toBe(MediaType.layerGzip);
    checkDigests(res, tar);
  });

  it("is the same tar (same diff id) for gzip, zstd and none, each with a right digest", async () => {
    await change(everyChange);
    const results = [];
    for (const c of ["gzip", "zstd", "none"] as const) {
      const { res, tar } = await diff(c);
      checkDigests(res, tar);
      results.push(res);
    }
    expect(results.map((r) => r.layer.mediaType)).toEqual([
      MediaType.layerGzip,
      MediaType.layerZstd,
      MediaType.layerTar,
    ]);
    expect(new Set(results.map((r) => r.diffId)).size).toBe(1);
    expect(results[2]!.layer.digest).toBe(results[0]!.diffId);
  });

  it("builds the same layer in memory (small uppers) as through the stream pipeline", async () => {
    await change(everyChange);
    for (const c of ["gzip", "none"] as const) {
      const streamed = await diff(c, undefined, 0);
      const inMemory = await diff(c);
      checkDigests(streamed.res, streamed.tar);
      checkDigests(inMemory.res, inMemory.tar);
      expect(inMemory.res).toEqual(streamed.res);
    }
  });

  it("clamps mtimes to SOURCE_DATE_EPOCH and gives whiteouts the epoch", async () => {
    await change(everyChange);
    const { entries } = await diff("none", 1000);
    for (const e of entries) expect(e.mtime).toBeLessThanOrEqual(1000);
    expect(entries.find((e) => e.name === ".wh.file1")?.mtime).toBe(1000);
  });

  it("refuses a real file whose name starts with .wh.", async () => {
    await change((r) => writeFileSync(join(r, ".wh.sneaky"), ""));
    await expect(diff()).rejects.toThrow(/layer entry ".wh.sneaky": names starting with .wh. are reserved/);
  });
});
