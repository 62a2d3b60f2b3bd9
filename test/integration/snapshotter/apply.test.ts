import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pack } from "tar-stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lgetxattr } from "../../../native/index.js";
import { applyLayer } from "../../../snapshotter/apply.js";
import { diffUpper } from "../../../snapshotter/diff.js";
import { withMounts } from "../../../snapshotter/mount.js";
import { openOverlaySnapshotter } from "../../../snapshotter/overlay.js";
import { unpackLayers } from "../../../snapshotter/unpack.js";
import { chainIds, chainSnapshotName } from "../../../snapshotter/chain.js";
import { type Descriptor, MediaType } from "../../../src/oci/types.js";
import {
  CAP_VALUE,
  commitTree,
  type Env,
  everyChange,
  makeEnv,
  WORKED_LOWER,
  activeDirs,
  committedDir,
} from "./helpers.js";

let env: Env;
beforeEach(async () => {
  env = await makeEnv();
  await commitTree(env.sn, "base", WORKED_LOWER);
});
afterEach(() => env.cleanup());

/** What a mounted tree looks like: path → type, mode, owner, content or link target, capability. */
function describeTree(root: string, rel = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(join(root, rel)).sort()) {
    const p = rel ? `${rel}/${name}` : name;
    const abs = join(root, p);
    const st = lstatSync(abs);
    const what = st.isDirectory()
      ? "dir"
      : st.isSymbolicLink()
        ? `-> ${readlinkSync(abs)}`
        : `${readFileSync(abs, "utf8")} nlink=${st.nlink}`;
    const cap = st.isSymbolicLink() ? null : lgetxattr(abs, "security.capability");
    out[p] =
      `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${what}${cap ? ` cap=${cap.toString("hex")}` : ""}`;
    if (st.isDirectory()) Object.assign(out, describeTree(root, p));
  }
  return out;
}

async function viewTree(sn = env.sn, name: string): Promise<Record<string, string>> {
  const key = `view-${name}`;
  try {
    return await withMounts(await sn.view(key, name), async (r) => describeTree(r));
  } finally {
    await sn.remove(key);
  }
}

/** Makes the every-change layer over base, commits the original as "child". */
async function childLayer(compression: "gzip" | "zstd" | "none" = "gzip") {
  await env.sn.prepare("child-key", "base");
  await withMounts(await env.sn.mounts("child-key"), async (r) => everyChange(r));
  const res = await diffUpper({
    upperDir: (await activeDirs(env.sn, "child-key")).upper!,
    lowerDirs: (await activeDirs(env.sn, "child-key")).lowers,
    store: env.store,
    compression,
  });
  await env.sn.commit("child", "child-key");
  return res;
}

describe("applyLayer round trip", () => {
  for (const compression of ["gzip", "zstd", "none"] as const) {
    it(`re-creates the overlay markers and the merged tree (${compression})`, async () => {
      const res = await childLayer(compression);
      await env.sn.prepare("applied-key", "base");
      const upper = (await activeDirs(env.sn, "applied-key")).upper!;
      const { diffId } = await applyLayer({
        store: env.store,
        layer: res.layer,
        targetDir: upper,
        expectedDiffId: res.diffId,
      });
      expect(diffId).toBe(res.diffId);
      for (const gone of ["file1", "b"]) {
        const st = lstatSync(join(upper, gone));
        expect([st.isCharacterDevice(), st.rdev]).toEqual([true, 0]);
      }
      expect(lgetxattr(join(upper, "bin"), "trusted.overlay.opaque")?.toString()).toBe("y");
      expect(readdirSync(upper).filter((n) => n.startsWith(".wh."))).toEqual([]);
      expect(lstatSync(join(upper, "hard1")).ino).toBe(lstatSync(join(upper, "hard2")).ino);
      await env.sn.commit("applied", "applied-key");
      const original = await viewTree(env.sn, "child");
      expect(original.capfile).toContain(`cap=${CAP_VALUE.toString("hex")}`);
      expect(original["bin/new"]).toBeDefined();
      expect(await viewTree(env.sn, "applied")).toEqual(original);
    });
  }

  it("refuses a wrong diff id and leaves the target empty", async () => {
    const res = await childLayer("gzip");
    const target = join(env.dir, "target");
    mkdirSync(target);
    const wrong = `sha256:${"0".repeat(64)}`;
    await expect(
      applyLayer({ store: env.store, layer: res.layer, targetDir: target, expectedDiffId: wrong }),
    ).rejects.toThrow(`layer ${res.layer.digest}: diff id is ${res.diffId}, expected ${wrong}`);
    expect(readdirSync(target)).toEqual([]);
  });

  it("unpacks an image's layers into chain snapshots once", async () => {
    const baseLayer = await diffUpper({
      upperDir: await committedDir(env.sn, "base"),
      lowerDirs: [],
      store: env.store,
    });
    const child = await childLayer("zstd");
    const fresh = await openOverlaySnapshotter(join(env.dir, "snapshots2"));
    const diffIds = [baseLayer.diffId, child.diffId];
    const top = await unpackLayers(fresh, env.store, [baseLayer.layer, child.layer], diffIds);
    const chains = chainIds(diffIds);
    expect(top).toBe(chainSnapshotName(chains[1]!));
    expect((await fresh.stat(top)).parent).toBe(chainSnapshotName(chains[0]!));
    expect(await viewTree(fresh, top)).toEqual(await viewTree(env.sn, "child"));
    const before: string[] = [];
    await fresh.walk((i) => {
      before.push(`${i.name}:${i.id}`);
    });
    expect(await unpackLayers(fresh, env.store, [baseLayer.layer, child.layer], diffIds)).toBe(top);
    const after: string[] = [];
    await fresh.walk((i) => {
      after.push(`${i.name}:${i.id}`);
    });
    expect(after).toEqual(before);
  });

  it("removes the active snapshot when a layer fails to unpack", async () => {
    const baseLayer = await diffUpper({
      upperDir: await committedDir(env.sn, "base"),
      lowerDirs: [],
      store: env.store,
    });
    const fresh = await openOverlaySnapshotter(join(env.dir, "snapshots2"));
    const wrong = `sha256:${"1".repeat(64)}`;
    await expect(unpackLayers(fresh, env.store, [baseLayer.layer], [wrong])).rejects.toThrow(/diff id is/);
    const left: string[] = [];
    await fresh.walk((i) => {
      left.push(i.name);
    });
    expect(left).toEqual([]);
  });
});

interface EvilEntry {
  name: string;
  type?: "file" | "symlink" | "link" | "directory";
  linkname?: string;
  content?: string;
}

/** A layer blob written by tar-stream (an independent writer), uncompressed. */
async function evilLayer(entries: EvilEntry[]): Promise<Descriptor> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    p.entry({ name: e.name, type: e.type ?? "file", linkname: e.linkname, mode: 0o644 }, e.content ?? "");
  }
  p.finalize();
  await done;
  const { digest, size } = await env.store.writeBlob(Buffer.concat(chunks));
  return { mediaType: MediaType.layerTar, digest, size };
}

describe("applyLayer refuses layers that escape", () => {
  // box/target is the snapshot dir; box/outside must stay empty whatever the layer says.
  let box: string;
  let target: string;
  beforeEach(() => {
    box = join(env.dir, "box");
    target = join(box, "target");
    mkdirSync(join(box, "outside"), { recursive: true });
    mkdirSync(target);
  });

  async function refuses(entries: EvilEntry[], message: string): Promise<void> {
    const layer = await evilLayer(entries);
    await expect(applyLayer({ store: env.store, layer, targetDir: target })).rejects.toThrow(
      `layer ${layer.digest}: entry ${message}`,
    );
    expect(readdirSync(box).sort()).toEqual(["outside", "target"]);
    expect(readdirSync(join(box, "outside"))).toEqual([]);
    expect(readdirSync(target)).toEqual([]);
  }

  it("a ../ entry", async () => {
    await refuses([{ name: "ok" }, { name: "../outside/pwned" }], "../outside/pwned escapes the root");
  });

  it("an absolute path", async () => {
    await refuses(
      [{ name: `${box}/outside/pwned` }],
      `${box}/outside/pwned escapes the root (absolute path)`,
    );
  });

  it("a file written through a symlink", async () => {
    await refuses(
      [
        { name: "link", type: "symlink", linkname: "../outside" },
        { name: "link/pwned", content: "x" },
      ],
      "link/pwned escapes the root (through symlink link)",
    );
  });

  it("a symlink to an absolute dir, then a file through it", async () => {
    await refuses(
      [
        { name: "abs", type: "symlink", linkname: join(box, "outside") },
        { name: "abs/pwned", content: "x" },
      ],
      "abs/pwned escapes the root (through symlink abs)",
    );
  });

  it("a hard link to a file outside", async () => {
    writeFileSync(join(env.dir, "secret"), "s");
    await refuses(
      [{ name: "hl", type: "link", linkname: "../../secret" }],
      "hl escapes the root (hard link to ../../secret)",
    );
  });

  it("a hard link whose target path runs through a symlink", async () => {
    await refuses(
      [
        { name: "link", type: "symlink", linkname: env.dir },
        { name: "hl", type: "link", linkname: "link/secret" },
      ],
      "hl escapes the root (through symlink link)",
    );
  });

  it("a whiteout without a name", async () => {
    await refuses([{ name: "d/.wh." }], "d/.wh. is a whiteout without a name");
  });

  it("a whiteout that names the parent dir", async () => {
    await refuses([{ name: "d/.wh..." }], "d/.wh... escapes its directory");
  });
});
