// Shared by the snapshotter, diff and apply tests: temp roots, a base layer, reading layers back.
import {
  chmodSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { lsetxattr } from "../../../native/index.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { extract } from "tar-stream";
import { compressionOf, decompressor } from "../../../snapshotter/compression.js";
import { readTar } from "../../../snapshotter/layer/tar-reader.js";
import { snapshotDirs, type SnapshotDirs } from "../../../snapshotter/mount.js";
import { openOverlaySnapshotter, type OverlaySnapshotter } from "../../../snapshotter/overlay.js";
import type { Snapshotter } from "../../../snapshotter/types.js";
import { openContentStore } from "../../../src/store/content.js";
import type { Descriptor } from "../../../src/oci/types.js";
import type { ContentStore } from "../../../src/store/types.js";

export interface Env {
  dir: string;
  sn: OverlaySnapshotter;
  store: ContentStore;
  cleanup(): void;
}

/** A temp dir on the real disk (overlay needs trusted.* xattrs: not tmpfs on old kernels). */
export async function makeEnv(): Promise<Env> {
  const base = process.env.TSBUILD_TEST_TMP ?? tmpdir();
  const dir = mkdtempSync(join(base, "tsbuild-snap-"));
  const sn = await openOverlaySnapshotter(join(dir, "snapshots"));
  const store = await openContentStore(join(dir, "content"));
  return { dir, sn, store, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes `files` (path → content; a path ending in "/" is a dir) under `root`. */
export function writeTree(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    const abs = join(root, path);
    if (path.endsWith("/")) mkdirSync(abs, { recursive: true });
    else {
      mkdirSync(join(abs, ".."), { recursive: true });
      writeFileSync(abs, content);
    }
  }
}

/** Commits a snapshot named `name` holding `files`, on top of `parent`. */
export async function commitTree(
  sn: OverlaySnapshotter,
  name: string,
  files: Record<string, string>,
  parent?: string,
): Promise<void> {
  const key = `${name}-active`;
  const mounts = await sn.prepare(key, parent);
  // Writing straight into the upper dir is how apply fills snapshots too; only valid without markers.
  writeTree(snapshotDirs(mounts).upper!, files);
  await sn.commit(name, key);
}

/** The README §5.6 lower layer. */
export const WORKED_LOWER: Record<string, string> = {
  file1: "1",
  "a/file2": "2",
  "b/x": "x",
  "c/file3": "3",
  "bin/tool": "tool",
  "bin/tools/one": "one",
};

/** The uncompressed tar of a layer blob. */
export async function layerTar(store: ContentStore, layer: Descriptor): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const dec = decompressor(compressionOf(layer.mediaType, layer.digest));
  const src = Readable.from([readFileSync(store.blobPath(layer.digest))]);
  const sink = async (s: AsyncIterable<Buffer>) => {
    for await (const c of s) chunks.push(c);
  };
  if (dec) await pipeline(src, dec, sink);
  else await pipeline(src, sink);
  return Buffer.concat(chunks);
}

export interface ListedEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkname?: string;
  content: string;
  uname?: string;
  mtime: number;
  pax: Record<string, string> | null;
}

/** Lists a tar with tar-stream (an independent reader), in archive order. */
export async function listTar(tar: Buffer): Promise<ListedEntry[]> {
  const out: ListedEntry[] = [];
  const ex = extract();
  const done = (async () => {
    for await (const e of ex) {
      const chunks: Buffer[] = [];
      for await (const c of e) chunks.push(c as Buffer);
      const h = e.header;
      out.push({
        name: h.name,
        type: h.type ?? "file",
        mode: h.mode ?? 0,
        uid: h.uid ?? 0,
        gid: h.gid ?? 0,
        size: h.size ?? 0,
        linkname: h.linkname ?? undefined,
        content: Buffer.concat(chunks).toString(),
        uname: h.uname,
        mtime: Math.floor((h.mtime?.getTime() ?? 0) / 1000),
        pax: (h.pax as Record<string, string> | null) ?? null,
      });
    }
  })();
  ex.end(tar);
  await done;
  return out;
}

/** The xattrs of each entry, read with tsbuild's own reader (tar-stream decodes binary PAX as UTF-8). */
export async function tarXattrs(tar: Buffer): Promise<Map<string, Map<string, Buffer>>> {
  const out = new Map<string, Map<string, Buffer>>();
  for await (const e of readTar(Readable.from([tar]))) out.set(e.name, e.xattrs);
  return out;
}

/** security.capability v2 granting cap_net_bind_service + cap_setfcap: binary, with a 0x80 byte. */
export const CAP_VALUE = Buffer.from([1, 0, 0, 2, 0, 4, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

/** Every kind of change, made through the overlay mount. */
export function everyChange(r: string): void {
  writeFileSync(join(r, "new.txt"), "new");
  writeFileSync(join(r, "a/file2"), "2 modified");
  rmSync(join(r, "file1"));
  rmSync(join(r, "b"), { recursive: true });
  rmSync(join(r, "bin"), { recursive: true });
  mkdirSync(join(r, "bin"));
  writeFileSync(join(r, "bin/new"), "fresh");
  writeFileSync(join(r, "tmp"), "gone");
  rmSync(join(r, "tmp"));
  chmodSync(join(r, "c/file3"), 0o700);
  symlinkSync("new.txt", join(r, "sym"));
  writeFileSync(join(r, "hard1"), "h");
  linkSync(join(r, "hard1"), join(r, "hard2"));
  writeFileSync(join(r, "capfile"), "c");
  lsetxattr(join(r, "capfile"), "security.capability", CAP_VALUE);
  lsetxattr(join(r, "capfile"), "user.note", "kept");
}

export const EVERY_CHANGE_NAMES = [
  ".wh.b",
  ".wh.file1",
  "a/",
  "a/file2",
  "bin/",
  "bin/.wh..wh..opq",
  "bin/new",
  "c/",
  "c/file3",
  "capfile",
  "hard1",
  "hard2",
  "new.txt",
  "sym",
];

/** The dirs behind an active snapshot's mounts (its upper, its lowers). */
export async function activeDirs(sn: Snapshotter, key: string): Promise<SnapshotDirs> {
  return snapshotDirs(await sn.mounts(key));
}

/** A committed snapshot's own tree, found as the lowerdir of a view (a committed snapshot has no mounts). */
export async function committedDir(sn: Snapshotter, name: string): Promise<string> {
  const key = `dirs-of-${name}-${Math.random()}`;
  try {
    return snapshotDirs(await sn.view(key, name)).lowers[0]!;
  } finally {
    await sn.remove(key);
  }
}
