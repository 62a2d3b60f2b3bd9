// snapshotter/mount.ts: the one encoder and decoder of overlay mount options, mounting specs, and the
// dirs a differ reads out of a snapshotter's mounts.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  OVERLAY_DEFAULTS,
  mountSpec,
  overlayMount,
  parseOverlayMount,
  snapshotDirs,
  withMounts,
} from "../../../snapshotter/mount.js";
import { openOverlaySnapshotter } from "../../../snapshotter/overlay.js";
import { MNT_DETACH, umount } from "../../../native/index.js";

let root: string;
const dir = (...parts: string[]) => {
  const p = join(root, ...parts);
  mkdirSync(p, { recursive: true });
  return p;
};

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "tsbuild-mount-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("overlay mount options", () => {
  it("round-trips lowerdirs holding ':' and '\\'", () => {
    const o = {
      lowerdirs: ["/a:b", "/c\\d", "/plain"],
      upperdir: "/u",
      workdir: "/w",
      options: OVERLAY_DEFAULTS,
    };
    const m = overlayMount(o);
    expect(m.options).toContain("lowerdir=/a\\:b:/c\\\\d:/plain");
    expect(parseOverlayMount(m)).toEqual(o);
  });

  it("reads upper and lowers out of a snapshotter's mounts, overlay and bind alike", () => {
    expect(
      snapshotDirs([overlayMount({ lowerdirs: ["/l1", "/l2"], upperdir: "/u", workdir: "/w" })]),
    ).toEqual({
      upper: "/u",
      lowers: ["/l1", "/l2"],
    });
    expect(snapshotDirs([{ type: "bind", source: "/s", options: ["rbind", "rw"] }])).toEqual({
      upper: "/s",
      lowers: [],
    });
    expect(snapshotDirs([{ type: "bind", source: "/s", options: ["rbind", "ro"] }])).toEqual({
      lowers: ["/s"],
    });
  });
});

describe("mountSpec", () => {
  it("mounts an overlay spec", () => {
    const [a, b, up, work, target] = ["s/a", "s/b", "s/up", "s/work", "s/mnt"].map((p) => dir(p));
    writeFileSync(join(a!, "a"), "a");
    writeFileSync(join(b!, "b"), "b");
    mountSpec(overlayMount({ lowerdirs: [a!, b!], upperdir: up, workdir: work }), target!);
    try {
      expect(readFileSync(join(target!, "a"), "utf8") + readFileSync(join(target!, "b"), "utf8")).toBe("ab");
      writeFileSync(join(target!, "c"), "c");
      expect(existsSync(join(up!, "c"))).toBe(true);
    } finally {
      umount(target!, MNT_DETACH);
    }
  });

  it("mounts a read-only bind spec, and a writable one", async () => {
    const src = dir("b/src");
    writeFileSync(join(src, "f"), "f");
    await withMounts([{ type: "bind", source: src, options: ["rbind", "ro"] }], async (t) => {
      expect(readFileSync(join(t, "f"), "utf8")).toBe("f");
      expect(() => writeFileSync(join(t, "g"), "g")).toThrow(/EROFS/);
    });
    await withMounts([{ type: "bind", source: src, options: ["rbind", "rw"] }], async (t) =>
      writeFileSync(join(t, "g"), "g"),
    );
    expect(readFileSync(join(src, "g"), "utf8")).toBe("g");
  });

  // The sandbox's root and the differ both decoded the snapshotter's options; the sandbox's own
  // decoder split at every ':', so a store under a path with ':' broke every RUN.
  it("works for a snapshotter whose root holds ':' (lowerdirs escaped, decoded once)", async () => {
    const sn = await openOverlaySnapshotter(dir("odd:root", "snapshots"));
    const base = await sn.prepare("base-active");
    await withMounts(base, async (r) => writeFileSync(join(r, "f"), "base"));
    await sn.commit("base", "base-active");
    const child = await sn.prepare("child", "base");
    expect(snapshotDirs(child).lowers[0]).toContain("odd:root");
    await withMounts(child, async (r) => {
      expect(readFileSync(join(r, "f"), "utf8")).toBe("base");
      writeFileSync(join(r, "g"), "child");
    });
    expect(readFileSync(join(snapshotDirs(child).upper!, "g"), "utf8")).toBe("child");
  });
});
