import {
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  lgetxattr,
  llistxattr,
  lremovexattr,
  lsetxattr,
  MNT_DETACH,
  mknod,
  mountOverlay,
  umount,
} from "../../../native/index.js";

let root: string;
const mounted: string[] = [];

function isMounted(target: string): boolean {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((l) => l.split(" ")[4] === target);
}

function dir(...parts: string[]): string {
  const p = join(root, ...parts);
  mkdirSync(p, { recursive: true });
  return p;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "tsbuild-native-"));
});

afterEach(() => {
  for (const m of mounted.splice(0).reverse()) if (isMounted(m)) umount(m, MNT_DETACH);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("xattrs", () => {
  it("round-trips trusted.overlay.opaque and lists it", () => {
    const d = dir("xattr");
    expect(lgetxattr(d, "trusted.overlay.opaque")).toBeNull();
    lsetxattr(d, "trusted.overlay.opaque", "y");
    expect(lgetxattr(d, "trusted.overlay.opaque")?.toString()).toBe("y");
    lsetxattr(d, "user.bin", Buffer.from([0, 1, 2, 255]));
    expect([...(lgetxattr(d, "user.bin") ?? [])]).toEqual([0, 1, 2, 255]);
    expect(llistxattr(d).sort()).toEqual(["trusted.overlay.opaque", "user.bin"]);
    lremovexattr(d, "user.bin");
    expect(llistxattr(d)).toEqual(["trusted.overlay.opaque"]);
  });

  it("throws like fs does, naming the path", () => {
    const missing = join(root, "missing");
    expect(() => lgetxattr(missing, "user.x")).toThrow(
      expect.objectContaining({
        code: "ENOENT",
        errno: -2,
        syscall: "lgetxattr",
        path: missing,
        message: `ENOENT: no such file or directory, lgetxattr '${missing}'`,
      }),
    );
    expect(() => lremovexattr(dir("noattr"), "user.absent")).toThrow(/ENODATA/);
  });
});

describe("mknod", () => {
  it("creates a 0:0 character device (an overlay whiteout)", () => {
    const p = join(dir("mknod"), "wh");
    mknod(p, constants.S_IFCHR | 0o600, 0, 0);
    const st = lstatSync(p);
    expect(st.isCharacterDevice()).toBe(true);
    expect(st.rdev).toBe(0);
    expect(() => mknod(p, constants.S_IFCHR, 0, 0)).toThrow(
      expect.objectContaining({ code: "EEXIST", path: p }),
    );
  });
});

describe("mountOverlay", () => {
  it("merges 2 lowers and an upper; writes land in the upper", () => {
    const [l1, l2, up, work, target] = ["o/l1", "o/l2", "o/up", "o/work", "o/mnt"].map((p) => dir(p));
    writeFileSync(join(l1!, "top"), "top");
    writeFileSync(join(l2!, "bottom"), "bottom");
    writeFileSync(join(l2!, "shadowed"), "l2");
    writeFileSync(join(l1!, "shadowed"), "l1");
    mountOverlay(target!, { lowerdirs: [l1!, l2!], upperdir: up, workdir: work });
    mounted.push(target!);
    expect(readFileSync(join(target!, "top"), "utf8")).toBe("top");
    expect(readFileSync(join(target!, "bottom"), "utf8")).toBe("bottom");
    expect(readFileSync(join(target!, "shadowed"), "utf8")).toBe("l1");
    writeFileSync(join(target!, "new"), "new");
    expect(readFileSync(join(up!, "new"), "utf8")).toBe("new");
    expect(existsSync(join(l1!, "new"))).toBe(false);
    const opts = readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .find((l) => l.split(" ")[4] === target);
    // The kernel lists only non-default values: "off" shows as the absence of "on".
    expect(opts).toMatch(/ - overlay overlay rw,/);
    expect(opts).not.toMatch(/index=on|redirect_dir=on|metacopy=on/);
    umount(target!);
    expect(isMounted(target!)).toBe(false);
  });

  it("mounts 130 lowerdirs with long absolute paths", () => {
    const deep = dir(
      "snapshots-with-a-rather-long-directory-name-for-the-option-limit/var/lib/tsbuild/snapshots",
    );
    const lowers: string[] = [];
    for (let i = 0; i < 130; i++) {
      const fs = join(deep, String(1000 + i), "fs");
      mkdirSync(fs, { recursive: true });
      writeFileSync(join(fs, `layer-${i}`), String(i));
      writeFileSync(join(fs, "which"), String(i));
      lowers.push(fs);
    }
    expect(lowers.join(":").length).toBeGreaterThan(4096);
    const target = dir("many-mnt");
    mountOverlay(target, { lowerdirs: lowers });
    mounted.push(target);
    expect(readFileSync(join(target, "which"), "utf8")).toBe("0");
    expect(readFileSync(join(target, "layer-129"), "utf8")).toBe("129");
    expect(() => writeFileSync(join(target, "x"), "x")).toThrow(/EROFS/);
    umount(target);
  });

  it("falls back to mount(2) with relative lowerdirs when the options exceed a page", () => {
    const deep = dir("classic/a-long-directory-name-to-push-the-options-past-one-page/snapshots");
    const lowers: string[] = [];
    for (let i = 0; i < 130; i++) {
      const fs = join(deep, String(1000 + i), "fs");
      mkdirSync(fs, { recursive: true });
      writeFileSync(join(fs, "which"), String(i));
      lowers.push(fs);
    }
    // As the snapshotter lays them out: every dir under one snapshots/ root.
    const [up, work] = ["2000/fs", "2000/work"].map((p) => join(deep, p));
    mkdirSync(up!, { recursive: true });
    mkdirSync(work!, { recursive: true });
    const target = dir("classic/mnt");
    process.env.TSBUILD_OVERLAY_FORCE_MOUNT2 = "1";
    try {
      mountOverlay(target, { lowerdirs: lowers, upperdir: up, workdir: work });
    } finally {
      delete process.env.TSBUILD_OVERLAY_FORCE_MOUNT2;
    }
    mounted.push(target);
    expect(readFileSync(join(target, "which"), "utf8")).toBe("0");
    writeFileSync(join(target, "new"), "new");
    expect(readFileSync(join(up!, "new"), "utf8")).toBe("new");
    expect(process.cwd()).not.toBe(deep);
  });

  it("names the missing lowerdir", () => {
    const missing = join(root, "no-such-lower");
    expect(() => mountOverlay(dir("bad-mnt"), { lowerdirs: [missing, dir("o/l1")] })).toThrow(
      expect.objectContaining({
        code: "ENOENT",
        syscall: "fsconfig",
        message: expect.stringContaining(missing),
      }),
    );
  });
});
