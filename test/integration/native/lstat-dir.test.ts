// native lstatDir + FileStat must say exactly what lstat says, for every file type, without BigInts.
import { execFileSync } from "node:child_process";
import { constants, linkSync, lstatSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileStat } from "../../../native/file-stat.js";
import { walkTree } from "../../../builder/context/walk.js";
import { lstatDir, mknod } from "../../../native/index.js";
import { tempDir } from "../../helpers/tsbuild.js";

describe("lstatDir and FileStat", () => {
  const tmp = tempDir("lstat-dir");
  afterAll(() => tmp.cleanup());
  const d = tmp.path;
  mkdirSync(join(d, "sub"));
  writeFileSync(join(d, "file"), "x".repeat(1234), { mode: 0o4751 });
  linkSync(join(d, "file"), join(d, "hardlink"));
  symlinkSync("file", join(d, "link"));
  execFileSync("mkfifo", [join(d, "fifo")]);
  mknod(join(d, "null"), constants.S_IFCHR | 0o666, 1, 3);
  mknod(join(d, "blk"), constants.S_IFBLK | 0o600, 259, 70000);
  // A time with nanoseconds that a double in seconds cannot hold exactly.
  utimesSync(join(d, "sub"), 1_700_000_000.123456, 1_700_000_000.987654);

  it("matches lstatSync({ bigint: true }) field by field, and lists no . or ..", () => {
    const { names, fields } = lstatDir(d);
    expect([...names].sort()).toEqual(["blk", "fifo", "file", "hardlink", "link", "null", "sub"]);
    for (const [i, name] of names.entries()) {
      const got = FileStat.at(fields, i);
      const want = lstatSync(join(d, name), { bigint: true });
      const fromNode = FileStat.fromBigIntStats(want);
      expect(got.mode, name).toBe(Number(want.mode));
      expect([got.uid, got.gid, got.nlink, got.size], name).toEqual([
        Number(want.uid),
        Number(want.gid),
        Number(want.nlink),
        Number(want.size),
      ]);
      expect(got.rdev, name).toBe(Number(want.rdev));
      expect(got.inodeKey, name).toBe(fromNode.inodeKey);
      expect(got.changeKey, name).toBe(fromNode.changeKey);
      expect(got.mtimeSeconds, name).toBeCloseTo(Number(want.mtimeNs) / 1e9, 6);
      for (const test of [
        "isFile",
        "isDirectory",
        "isSymbolicLink",
        "isFIFO",
        "isSocket",
        "isCharacterDevice",
        "isBlockDevice",
      ] as const) {
        expect(got[test](), `${name} ${test}`).toBe(want[test]());
      }
    }
  });

  it("gives hardlinks one inode key and keeps the device numbers", () => {
    const { names, fields } = lstatDir(d);
    const stat = (n: string): FileStat => FileStat.at(fields, names.indexOf(n));
    expect(stat("file").inodeKey).toBe(stat("hardlink").inodeKey);
    expect(stat("file").inodeKey).not.toBe(stat("sub").inodeKey);
    expect(stat("null").rdev).toBe(Number(lstatSync(join(d, "null")).rdev));
    expect(stat("blk").isBlockDevice()).toBe(true);
  });

  it("changes the change key when only the nanoseconds of mtime change", () => {
    const f = join(d, "ns");
    writeFileSync(f, "a");
    utimesSync(f, 1_700_000_000, 1_700_000_000.000001);
    const before = FileStat.fromBigIntStats(lstatSync(f, { bigint: true })).changeKey;
    utimesSync(f, 1_700_000_000, 1_700_000_000.000002);
    const { names, fields } = lstatDir(d);
    expect(FileStat.at(fields, names.indexOf("ns")).changeKey).not.toBe(before);
  });

  it("throws like fs for a missing or non-directory path", () => {
    expect(() => lstatDir(join(d, "missing"))).toThrow(expect.objectContaining({ code: "ENOENT" }));
    expect(() => lstatDir(join(d, "file"))).toThrow(expect.objectContaining({ code: "ENOTDIR" }));
  });

  it("walkTree lists in sort() order with each directory before its contents", () => {
    const w = tempDir("walk-order");
    try {
      for (const p of ["b/z", "b/a", "a", "B", "é", "a.b"]) {
        mkdirSync(join(w.path, p, ".."), { recursive: true });
        writeFileSync(join(w.path, p), p);
      }
      expect(walkTree(w.path).map((e) => e.rel)).toEqual(["B", "a", "a.b", "b", "b/a", "b/z", "é"]);
    } finally {
      w.cleanup();
    }
  });
});
