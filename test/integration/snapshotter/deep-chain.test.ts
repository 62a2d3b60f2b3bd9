// A chain deeper than overlay's 500 lower directories (issue 19 #4): the deepest 256 layers are
// mounted as one flattened lower, made once in the id dir of the snapshot at their top; the merged
// view is the same as the layers', whiteouts and all; removing the snapshots removes it.
import { existsSync, lstatSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lgetxattr, lsetxattr, mknod } from "../../../native/index.js";
import { FLATTEN_STEP, MAX_LOWERS, flattenedDepth } from "../../../snapshotter/flatten.js";
import { snapshotDirs, withMounts } from "../../../snapshotter/mount.js";
import { CAP_VALUE, commitTree, type Env, makeEnv } from "./helpers.js";

const DEPTH = 600;
const name = (i: number) => `layer-${i}`;

/** The flattened lowers in the store: `<id>/flat` dirs. */
function flatDirs(env: Env): string[] {
  const root = join(env.dir, "snapshots");
  return readdirSync(root).filter((id) => existsSync(join(root, id, "flat")));
}

describe("a 600-layer chain", () => {
  let env: Env;
  beforeAll(async () => {
    env = await makeEnv();
    await commitTree(env.sn, name(0), {
      "gone.txt": "deleted at 300",
      "early.txt": "deleted at 100",
      "same.txt": "v0",
      "dir/keep": "k",
    });
    for (let i = 1; i < DEPTH; i++) {
      const key = `${name(i)}-active`;
      const upper = snapshotDirs(await env.sn.prepare(key, name(i - 1))).upper!;
      writeFileSync(join(upper, `f${i}`), String(i));
      if (i === 10) writeFileSync(join(upper, "same.txt"), "v10");
      if (i === 20) {
        writeFileSync(join(upper, "cap"), "c");
        lsetxattr(join(upper, "cap"), "security.capability", CAP_VALUE);
      }
      // An overlay whiteout, as a RUN `rm` leaves it in its upper.
      if (i === 300) mknod(join(upper, "gone.txt"), 0o020000, 0, 0);
      if (i === 100) mknod(join(upper, "early.txt"), 0o020000, 0, 0);
      await env.sn.commit(name(i), key);
    }
  }, 120_000);
  afterAll(() => env.cleanup());

  it(`flattens past ${MAX_LOWERS} lowers in steps of ${FLATTEN_STEP}`, () => {
    expect([500, 501, 755, 756, 1000].map(flattenedDepth)).toEqual([0, 256, 256, 512, 512]);
  });

  it("mounts the top with every layer's changes, the deepest 256 as one flattened lower", async () => {
    const mounts = await env.sn.view("top", name(DEPTH - 1));
    expect(snapshotDirs(mounts).lowers).toHaveLength(DEPTH - FLATTEN_STEP + 1);
    await withMounts(mounts, async (root) => {
      for (let i = 1; i < DEPTH; i++) expect(readFileSync(join(root, `f${i}`), "utf8")).toBe(String(i));
      expect(readFileSync(join(root, "same.txt"), "utf8")).toBe("v10");
      expect(readFileSync(join(root, "dir/keep"), "utf8")).toBe("k");
      expect(existsSync(join(root, "gone.txt"))).toBe(false); // deleted at 300, above the flat lower
      expect(existsSync(join(root, "early.txt"))).toBe(false); // deleted at 100, inside it
      expect(lgetxattr(join(root, "cap"), "security.capability")).toEqual(CAP_VALUE);
    });
    await env.sn.remove("top");
    expect(flatDirs(env)).toHaveLength(1);
  });

  it("shares the flattened lower between chains; a whiteout inside it leaves no trace", async () => {
    // A chain of 520 on a fork at 290: the file deleted at 300 is outside it, so still there.
    let parent = name(289);
    for (let i = 0; i < 231; i++) {
      const key = `fork-${i}-active`;
      const upper = snapshotDirs(await env.sn.prepare(key, parent)).upper!;
      writeFileSync(join(upper, `fork${i}`), "x");
      await env.sn.commit(`fork-${i}`, key);
      parent = `fork-${i}`;
    }
    await withMounts(await env.sn.view("fork-top", parent), async (root) => {
      expect(readFileSync(join(root, "gone.txt"), "utf8")).toBe("deleted at 300");
      expect(existsSync(join(root, "f290"))).toBe(false);
    });
    await env.sn.remove("fork-top");
    // The same flattened lower (layers 0..255) serves both chains.
    expect(flatDirs(env)).toHaveLength(1);
    const flat = join(env.dir, "snapshots", flatDirs(env)[0]!, "flat");
    expect(existsSync(join(flat, "early.txt"))).toBe(false); // neither the file nor its whiteout
    expect(lstatSync(join(flat, "gone.txt")).isFile()).toBe(true);
    expect(statSync(join(flat, "f255")).isFile()).toBe(true);
    expect(existsSync(join(flat, "f256"))).toBe(false);
  });

  it("removing the snapshots removes the flattened lower with them", async () => {
    for (let i = 230; i >= 0; i--) await env.sn.remove(`fork-${i}`);
    for (let i = DEPTH - 1; i >= 0; i--) await env.sn.remove(name(i));
    expect(readdirSync(join(env.dir, "snapshots")).filter((d) => /^[0-9a-f]{12}$/.test(d))).toEqual([]);
  }, 60_000);
});
