// After containerd's snapshots/testsuite: one suite of state-machine and filesystem checks that
// every Snapshotter implementation and every wrapper passes, touching snapshots only through the
// mounts they hand out (as a build does).
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CacheRecords } from "../../../builder/cache/records.js";
import { LazyRemoteSnapshotter } from "../../../builder/cache/remote/lazy-snapshotter.js";
import { RemoteCacheSession } from "../../../builder/cache/remote/session.js";
import { snapshotDirs, withMounts } from "../../../snapshotter/mount.js";
import { openOverlaySnapshotter } from "../../../snapshotter/overlay.js";
import type { Snapshotter } from "../../../snapshotter/types.js";
import { openContentStore } from "../../../src/store/content.js";
import { writeTree } from "./helpers.js";

type Make = (root: string) => Promise<Snapshotter>;

/** Commits `name` with `files` written through the new snapshot's mount. */
async function commitFiles(sn: Snapshotter, name: string, files: Record<string, string>, parent?: string) {
  const mounts = await sn.prepare(`${name}-tmp`, parent);
  await withMounts(mounts, async (root) => writeTree(root, files));
  await sn.commit(name, `${name}-tmp`);
}

/** Prepares `key` over `parent`, runs fn in the mounted snapshot, unmounts, commits as `name`. */
async function commitChange(sn: Snapshotter, name: string, parent: string, fn: (root: string) => void) {
  const mounts = await sn.prepare(`${name}-tmp`, parent);
  await withMounts(mounts, async (root) => fn(root));
  await sn.commit(name, `${name}-tmp`);
}

/** Runs fn in a read-only view of `name`, removing the view afterwards. */
async function inView<T>(sn: Snapshotter, name: string, fn: (root: string) => T): Promise<T> {
  const key = `view-${name}-${Math.random()}`;
  const mounts = await sn.view(key, name);
  try {
    return await withMounts(mounts, async (root) => fn(root));
  } finally {
    await sn.remove(key);
  }
}

export function snapshotterSuite(name: string, make: Make): void {
  describe(`snapshotter conformance: ${name}`, () => {
    let dir: string;
    let root: string;
    let sn: Snapshotter;
    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), "tsbuild-sncf-"));
      root = join(dir, "snapshots");
      sn = await make(root);
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    describe("state rules", () => {
      it("refuses a duplicate key, across kinds", async () => {
        await commitFiles(sn, "base", { f: "1" });
        await sn.prepare("a", "base");
        await expect(sn.prepare("a", "base")).rejects.toThrow("snapshot a: already exists");
        await expect(sn.view("a", "base")).rejects.toThrow("snapshot a: already exists");
        await expect(sn.prepare("base")).rejects.toThrow("snapshot base: already exists");
        await sn.prepare("b");
        await expect(sn.commit("base", "b")).rejects.toThrow("snapshot base: already exists");
      });

      it("refuses to commit a view or a committed snapshot", async () => {
        await commitFiles(sn, "base", { f: "1" });
        await sn.view("v", "base");
        await expect(sn.commit("v2", "v")).rejects.toThrow(/snapshot v: is view; only active/);
        await expect(sn.commit("b2", "base")).rejects.toThrow(/snapshot base: is committed; only active/);
      });

      it("needs a committed parent", async () => {
        await sn.prepare("active");
        await expect(sn.prepare("c", "active")).rejects.toThrow("parent active is active, not committed");
        await expect(sn.view("c", "active")).rejects.toThrow("parent active is active, not committed");
        await expect(sn.prepare("c", "nothing")).rejects.toThrow("parent nothing not found");
      });

      it("refuses to remove a parent with children, then removes it once they are gone", async () => {
        await commitFiles(sn, "base", { f: "1" });
        await sn.prepare("child", "base");
        await expect(sn.remove("base")).rejects.toThrow("snapshot base: cannot remove, child is based on it");
        await sn.remove("child");
        const id = (await sn.stat("base")).id;
        await sn.remove("base");
        await expect(sn.stat("base")).rejects.toThrow("snapshot base: not found");
        expect(existsSync(join(root, id))).toBe(false);
      });

      it("removes a snapshot that was mounted, tree and all", async () => {
        await commitFiles(sn, "base", { f: "1" });
        await commitChange(sn, "child", "base", (r) => {
          mkdirSync(join(r, "d/e"), { recursive: true });
          writeFileSync(join(r, "d/e/g"), "2");
          rmSync(join(r, "f"));
        });
        const ids = [(await sn.stat("child")).id, (await sn.stat("base")).id];
        await sn.remove("child");
        await sn.remove("base");
        for (const id of ids) expect(existsSync(join(root, id))).toBe(false);
      });

      it("names unknown keys", async () => {
        await expect(sn.stat("nope")).rejects.toThrow("snapshot nope: not found");
        await expect(sn.mounts("nope")).rejects.toThrow("snapshot nope: not found");
        await expect(sn.commit("x", "nope")).rejects.toThrow("snapshot nope: not found");
        await expect(sn.remove("nope")).rejects.toThrow("snapshot nope: not found");
        await expect(sn.usage("nope")).rejects.toThrow("snapshot nope: not found");
      });

      it("gives a committed snapshot no mounts: its tree is reached as a view's or child's lowerdir", async () => {
        await commitFiles(sn, "l1", { f: "1" });
        await commitChange(sn, "l2", "l1", (r) => writeFileSync(join(r, "g"), "2"));
        await expect(sn.mounts("l2")).rejects.toThrow(/committed snapshots have no mounts/);
        const child = snapshotDirs(await sn.prepare("on-l2", "l2"));
        expect(child.lowers).toHaveLength(2);
        expect(readFileSync(join(child.lowers[0]!, "g"), "utf8")).toBe("2");
        expect(readdirSync(child.upper!)).toEqual([]);
        const view = snapshotDirs(await sn.view("see-l2", "l2"));
        expect(view.upper).toBeUndefined();
        expect(view.lowers).toEqual(child.lowers);
      });
    });

    describe("filesystem semantics", () => {
      it("shows a file changed in a child only in the child", async () => {
        await commitFiles(sn, "base", { f: "base", "d/keep": "k" });
        await commitChange(sn, "child", "base", (r) => writeFileSync(join(r, "f"), "child"));
        expect(await inView(sn, "child", (r) => readFileSync(join(r, "f"), "utf8"))).toBe("child");
        expect(await inView(sn, "child", (r) => readFileSync(join(r, "d/keep"), "utf8"))).toBe("k");
        expect(await inView(sn, "base", (r) => readFileSync(join(r, "f"), "utf8"))).toBe("base");
      });

      it("hides a directory removed from a lower layer", async () => {
        await commitFiles(sn, "base", { "d/x": "x", "d/y/z": "z", other: "o" });
        await commitChange(sn, "child", "base", (r) => rmSync(join(r, "d"), { recursive: true }));
        expect(await inView(sn, "child", (r) => readdirSync(r).sort())).toEqual(["other"]);
        expect(await inView(sn, "base", (r) => readdirSync(r).sort())).toEqual(["d", "other"]);
      });

      it("keeps a chown made in a child", async () => {
        await commitFiles(sn, "base", { f: "1" });
        await commitChange(sn, "child", "base", (r) => chownSync(join(r, "f"), 1000, 1001));
        const st = await inView(sn, "child", (r) => statSync(join(r, "f")));
        expect([st.uid, st.gid]).toEqual([1000, 1001]);
        expect((await inView(sn, "base", (r) => statSync(join(r, "f")))).uid).toBe(0);
      });

      it("mounts views read-only (one layer and many)", async () => {
        await commitFiles(sn, "base", { f: "1" });
        await commitChange(sn, "child", "base", (r) => writeFileSync(join(r, "g"), "2"));
        for (const name of ["base", "child"]) {
          const err = await inView(sn, name, (r) => {
            try {
              writeFileSync(join(r, "new"), "x");
              return undefined;
            } catch (e) {
              return (e as NodeJS.ErrnoException).code;
            }
          });
          expect(err).toBe("EROFS");
        }
      });

      it("makes a snapshot without parent a writable tree of its own", async () => {
        const mounts = await sn.prepare("solo");
        await withMounts(mounts, async (r) => writeFileSync(join(r, "f"), "solo"));
        const dirs = snapshotDirs(mounts);
        expect(dirs.lowers).toEqual([]);
        expect(readFileSync(join(dirs.upper!, "f"), "utf8")).toBe("solo");
        await sn.commit("solo-done", "solo");
        expect(await inView(sn, "solo-done", (r) => readFileSync(join(r, "f"), "utf8"))).toBe("solo");
      });

      it("mounts a 128-layer chain", async () => {
        let parent: string | undefined;
        for (let i = 0; i < 128; i++) {
          await commitFiles(sn, `layer-${i}`, { [`f${String(i).padStart(3, "0")}`]: String(i) }, parent);
          parent = `layer-${i}`;
        }
        expect(snapshotDirs(await sn.view("all-128", "layer-127")).lowers).toHaveLength(128);
        const files = await inView(sn, "layer-127", (r) => readdirSync(r));
        expect(files).toHaveLength(128);
        expect(await inView(sn, "layer-127", (r) => readFileSync(join(r, "f000"), "utf8"))).toBe("0");
        // And writable on top of all 128.
        await commitChange(sn, "top", "layer-127", (r) => writeFileSync(join(r, "f000"), "top"));
        expect(await inView(sn, "top", (r) => readFileSync(join(r, "f000"), "utf8"))).toBe("top");
      });
    });

    describe("stat, walk, usage", () => {
      it("reports kind, parent, labels and sizes", async () => {
        await commitFiles(sn, "base", { big: "x".repeat(1 << 20), "d/small": "s" });
        await sn.prepare("act", "base", { purpose: "test" });
        await sn.view("vw", "base");
        expect(await sn.stat("base")).toMatchObject({ name: "base", kind: "committed" });
        expect(await sn.stat("act")).toMatchObject({
          kind: "active",
          parent: "base",
          labels: { purpose: "test" },
        });
        expect(await sn.stat("vw")).toMatchObject({ kind: "view", parent: "base" });
        const seen: string[] = [];
        await sn.walk((info) => {
          seen.push(`${info.name}:${info.kind}`);
        });
        expect(seen).toEqual(["act:active", "base:committed", "vw:view"]);
        const u = await sn.usage("base");
        expect(u.size).toBeGreaterThanOrEqual(1 << 20);
        expect(u.inodes).toBe(4); // root, big, d, d/small
        expect((await sn.usage("act")).inodes).toBe(1);
        expect(snapshotDirs(await sn.mounts("act")).lowers).toHaveLength(1);
      });
    });

    describe("crash recovery and concurrency", () => {
      it("re-opens after a crash: orphan id dirs and half-written metadata are cleared", async () => {
        await commitFiles(sn, "base", { f: "1" });
        mkdirSync(join(root, "77", "fs"), { recursive: true });
        writeFileSync(join(root, "77", "fs", "junk"), "x");
        writeFileSync(join(root, ".tmp-deadbeef"), '{"version":1,"nextId":');
        // What tells the next opener that a process died with the store open.
        writeFileSync(join(root, "owners", "999999999-1"), "");
        const again = await make(root);
        expect(existsSync(join(root, "77"))).toBe(false);
        expect(existsSync(join(root, ".tmp-deadbeef"))).toBe(false);
        expect((await again.stat("base")).kind).toBe("committed");
        await again.prepare("next", "base");
        expect(await inView(again, "base", (r) => readFileSync(join(r, "f"), "utf8"))).toBe("1");
      });

      it("refuses to remove a parent that another opener based a child on meanwhile", async () => {
        const other = await make(root);
        await commitFiles(sn, "base", { f: "1" });
        await commitFiles(sn, "gone", { g: "1" }, "base");
        await sn.remove("gone"); // sn has looked at base's children once already
        await commitFiles(other, "child", { g: "2" }, "base");
        await expect(sn.remove("base")).rejects.toThrow("snapshot base: cannot remove, child is based on it");
        await other.view("look", "child");
        await expect(sn.remove("child")).rejects.toThrow(
          "snapshot child: cannot remove, look is based on it",
        );
        await other.remove("look");
        await sn.remove("child");
        await sn.remove("base");
        await expect(other.stat("base")).rejects.toThrow("snapshot base: not found");
      });

      it("removes all of a 200-snapshot store, children first", async () => {
        const depth = new Map<string, number>();
        for (let c = 0; c < 20; c++) {
          for (let i = 0; i < 10; i++) {
            const parent = i === 0 ? undefined : `c${c}-${i - 1}`;
            await commitFiles(sn, `c${c}-${i}`, { [`f${i}`]: String(i) }, parent);
            depth.set(`c${c}-${i}`, i);
          }
        }
        await sn.prepare("leftover", "c3-9");
        await expect(sn.remove("c3-4")).rejects.toThrow("snapshot c3-4: cannot remove, c3-5 is based on it");
        await expect(sn.remove("c3-9")).rejects.toThrow("cannot remove, leftover is based on it");
        await sn.remove("leftover");
        const names = [...depth.keys()].sort((a, b) => depth.get(b)! - depth.get(a)!);
        for (const name of names) await sn.remove(name);
        const left: string[] = [];
        await sn.walk((info) => {
          left.push(info.name);
        });
        expect(left).toEqual([]);
      });

      it("lets two openers prepare different keys at once", async () => {
        const other = await make(root);
        await commitFiles(sn, "base", { f: "1" });
        const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
        await Promise.all(keys.map((k, i) => (i % 2 ? sn : other).prepare(k, "base")));
        const ids = new Set<string>();
        for (const k of keys) ids.add((await sn.stat(k)).id);
        expect(ids.size).toBe(20);
      });
    });
  });
}

snapshotterSuite("overlay", openOverlaySnapshotter);

// The wrapper a build uses with --cache-from, over a real session that has imported nothing: every
// prepare and view first asks the session to make the parent local.
snapshotterSuite("lazy remote (over overlay)", async (root) => {
  const inner = await openOverlaySnapshotter(root);
  const content = join(root, "..", "content");
  const session = new RemoteCacheSession({
    store: await openContentStore(content),
    snapshotter: inner,
    cache: new CacheRecords(join(content, "cache")),
    progress: { emit: () => undefined, close: () => undefined },
    signal: new AbortController().signal,
  });
  return new LazyRemoteSnapshotter(inner, session);
});
