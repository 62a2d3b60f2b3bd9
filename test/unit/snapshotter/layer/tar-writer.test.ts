import {
  constants,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { extract } from "tar-stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lsetxattr, mknod } from "../../../../native/index.js";
import { checkLayerPath } from "../../../../snapshotter/layer/path-safety.js";
import { encodeHeader, END_OF_ARCHIVE } from "../../../../snapshotter/layer/tar-format.js";
import { readTar } from "../../../../snapshotter/layer/tar-reader.js";
import { devMajorMinor, LayerTarWriter } from "../../../../snapshotter/layer/tar-writer.js";
import type { XattrPolicy } from "../../../../snapshotter/layer/xattrs.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tsbuild-tarw-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `fn` against a writer and returns the whole archive. */
async function write(
  fn: (w: LayerTarWriter) => Promise<void>,
  epoch?: number,
  xattrs?: XattrPolicy,
): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  const w = new LayerTarWriter(out, { sourceDateEpoch: epoch, xattrs });
  await fn(w);
  await w.finish();
  return Buffer.concat(chunks);
}

async function read(tar: Buffer) {
  const out = [];
  for await (const e of readTar(Readable.from([tar]))) {
    const body: Buffer[] = [];
    for await (const c of e.body()) body.push(c);
    out.push({ ...e, content: Buffer.concat(body).toString() });
  }
  return out;
}

async function add(w: LayerTarWriter, rel: string) {
  const abs = join(dir, rel);
  await w.addFile(rel, lstatSync(abs), abs);
}

describe("path safety", () => {
  it.each([
    ["", "not a relative path"],
    ["/etc/passwd", "not a relative path"],
    ["a/../b", "not a normalized path inside the root"],
    ["a//b", "not a normalized path inside the root"],
    ["./a", "not a normalized path inside the root"],
    ["a/.wh.b", "names starting with .wh. are reserved"],
    [".wh..wh..opq", "names starting with .wh. are reserved"],
  ])("refuses %j, naming it", (path, why) => {
    expect(() => checkLayerPath(path)).toThrow(`layer entry ${JSON.stringify(path)}: ${why}`);
  });

  it("refuses before writing anything", async () => {
    writeFileSync(join(dir, ".wh.x"), "");
    const tar = await write(async (w) => {
      await expect(add(w, ".wh.x")).rejects.toThrow(/reserved for whiteouts/);
      await expect(w.addWhiteout("../up")).rejects.toThrow(/not a normalized path/);
    });
    expect(tar).toEqual(END_OF_ARCHIVE);
  });
});

describe("LayerTarWriter", () => {
  it("writes every file type, hard links to the first path, whiteouts with fixed metadata", async () => {
    mkdirSync(join(dir, "d"));
    writeFileSync(join(dir, "d/f"), "hello");
    linkSync(join(dir, "d/f"), join(dir, "d/g"));
    symlinkSync("f", join(dir, "d/s"));
    mknod(join(dir, "d/c"), constants.S_IFCHR | 0o600, 1, 3);
    mknod(join(dir, "d/b"), constants.S_IFBLK | 0o600, 259, 70000);
    mknod(join(dir, "d/p"), constants.S_IFIFO | 0o644, 0, 0);
    const tar = await write(async (w) => {
      await add(w, "d");
      await w.addOpaque("d");
      await w.addWhiteout("d/old");
      for (const n of ["b", "c", "f", "g", "p", "s"]) await add(w, `d/${n}`);
    }, 1234);
    const entries = await read(tar);
    expect(entries.map((e) => [e.name, e.type])).toEqual([
      ["d/", "directory"],
      ["d/.wh..wh..opq", "file"],
      ["d/.wh.old", "file"],
      ["d/b", "block"],
      ["d/c", "char"],
      ["d/f", "file"],
      ["d/g", "link"],
      ["d/p", "fifo"],
      ["d/s", "symlink"],
    ]);
    const by = new Map(entries.map((e) => [e.name, e]));
    expect(by.get("d/.wh.old")).toMatchObject({ mode: 0, uid: 0, gid: 0, size: 0, mtime: 1234 });
    expect(by.get("d/b")).toMatchObject({ devmajor: 259, devminor: 70000 });
    expect(by.get("d/c")).toMatchObject({ devmajor: 1, devminor: 3, mode: 0o600 });
    expect(by.get("d/f")).toMatchObject({ content: "hello", size: 5 });
    expect(by.get("d/g")).toMatchObject({ linkname: "d/f", size: 0 });
    expect(by.get("d/s")).toMatchObject({ linkname: "f" });
    for (const e of entries) expect(e.mtime).toBeLessThanOrEqual(1234);
  });

  const cap = Buffer.from([1, 0, 0, 2, 0, 4, 0, 0x80, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  function fileWithXattrs(): void {
    writeFileSync(join(dir, "f"), "x");
    lsetxattr(join(dir, "f"), "security.capability", cap);
    lsetxattr(join(dir, "f"), "user.keep", "k");
    lsetxattr(join(dir, "f"), "user.overlay.origin", "o");
    lsetxattr(join(dir, "f"), "trusted.overlay.opaque", "y");
    lsetxattr(join(dir, "f"), "trusted.other", "t");
  }

  it("records only the binary security.capability xattr by default, as BuildKit and buildah", async () => {
    fileWithXattrs();
    const [e] = await read(await write((w) => add(w, "f")));
    expect([...e!.xattrs.keys()]).toEqual(["security.capability"]);
    expect(e!.xattrs.get("security.capability")).toEqual(cap);
  });

  it("with the all policy keeps user.* and trusted.* xattrs, drops overlay ones", async () => {
    fileWithXattrs();
    const [e] = await read(await write((w) => add(w, "f"), undefined, "all"));
    expect([...e!.xattrs.keys()].sort()).toEqual(["security.capability", "trusted.other", "user.keep"]);
    expect(e!.xattrs.get("security.capability")).toEqual(cap);
  });

  it("is deterministic and readable by tar-stream, with long and non-ASCII names", async () => {
    const long = `${"deep/".repeat(40)}f`;
    mkdirSync(join(dir, "deep/".repeat(40)), { recursive: true });
    writeFileSync(join(dir, long), "L");
    writeFileSync(join(dir, "ünïcødé"), "U");
    const make = () =>
      write(async (w) => {
        await add(w, long);
        await add(w, "ünïcødé");
      });
    const a = await make();
    expect(a).toEqual(await make());
    const names: string[] = [];
    const ex = extract();
    const done = (async () => {
      for await (const e of ex) {
        names.push(e.header.name);
        e.resume();
      }
    })();
    ex.end(a);
    await done;
    expect(names).toEqual([long, "ünïcødé"]);
  });

  it("coalesces output into chunks of at least 1 MiB", async () => {
    for (let i = 0; i < 1500; i++) writeFileSync(join(dir, `f${i}`), "x".repeat(100));
    const out = new PassThrough();
    const sizes: number[] = [];
    out.on("data", (c: Buffer) => sizes.push(c.length));
    const w = new LayerTarWriter(out);
    for (let i = 0; i < 1500; i++) await add(w, `f${i}`);
    await w.finish();
    // 1500 × (header + data block) = 1.5 MiB: one full chunk, then the rest at finish().
    expect(sizes.length).toBe(2);
    expect(sizes[0]).toBeGreaterThanOrEqual(1 << 20);
    expect(sizes[0]! + sizes[1]!).toBe(1500 * 1024 + 1024);
  });
});

describe("tar format", () => {
  it("round-trips big ids and sizes through PAX", async () => {
    const h = { name: "x", type: "file" as const, mode: 0o4755, uid: 10_000_000, gid: 3, size: 0, mtime: 5 };
    const tar = Buffer.concat([...encodeHeader(h), END_OF_ARCHIVE]);
    const [e] = await read(tar);
    expect(e).toMatchObject({ name: "x", uid: 10_000_000, gid: 3, mode: 0o4755, mtime: 5 });
  });

  it("splits dev_t like glibc", () => {
    expect(devMajorMinor(0x0801)).toEqual([8, 1]);
    expect(devMajorMinor(lstatSync("/dev/null").rdev)).toEqual([1, 3]);
    // major 259, minor 70000: minor's high bits live above bit 20
    const rdev = (70000 & 0xff) | ((259 & 0xfff) << 8) | ((70000 & ~0xff) << 12);
    expect(devMajorMinor(rdev)).toEqual([259, 70000]);
  });
});
