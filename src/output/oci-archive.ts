import { createReadStream, statSync } from "node:fs";
import { type FileHandle, open, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { describeError, systemFailure, TsbuildError } from "../errors.js";
import { canonicalJson } from "../oci/canonical-json.js";
import { digestHex } from "../oci/digest.js";
import type { Descriptor } from "../oci/types.js";
import { FileHandleWritable } from "../store/file-handle-writable.js";
import type { ContentStore, ImageRecord } from "../store/types.js";
import { fsyncDir } from "../util/atomic.js";
import { sweepTempsBeside, tempPathBeside } from "../util/temp-files.js";
import { exportBlobs, exportIndex } from "./export-set.js";
import { OCI_LAYOUT_FILE } from "../oci/layout.js";

/** Fixed owner and time so that the same images always give the same archive bytes. */
function header(name: string, type: "file" | "directory", size = 0): Partial<tar.Header> & { name: string } {
  return {
    name,
    type,
    size,
    mode: type === "directory" ? 0o755 : 0o644,
    mtime: new Date(0),
    uid: 0,
    gid: 0,
    uname: "",
    gname: "",
  };
}

function addBuffer(
  pack: tar.Pack,
  h: Partial<tar.Header> & { name: string },
  body: Buffer = Buffer.alloc(0),
): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(h, body, (err) => (err ? reject(err) : resolve()));
  });
}

function addFile(pack: tar.Pack, name: string, path: string, size: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const entry = pack.entry(header(name, "file", size), (err) => (err ? reject(err) : resolve()));
    pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), entry).catch(reject);
  });
}

/** Streams a tar of an OCI image layout holding `images` and their `blobs` into `out`. */
async function packArchive(
  store: ContentStore,
  images: ImageRecord[],
  blobs: Descriptor[],
  out: Writable,
): Promise<void> {
  const pack = tar.pack();
  const written = pipeline(pack, out);
  try {
    // In name order: blobs/, blobs/sha256/, blobs/sha256/<hex> (sorted), index.json, oci-layout.
    await addBuffer(pack, header("blobs/", "directory"));
    await addBuffer(pack, header("blobs/sha256/", "directory"));
    for (const d of blobs) {
      const path = store.blobPath(d.digest);
      const size = statSync(path).size;
      if (size !== d.size) {
        throw new TsbuildError(
          `blob ${d.digest}: ${size} bytes in the content store, its descriptor says ${d.size}`,
        );
      }
      await addFile(pack, `blobs/sha256/${digestHex(d.digest)}`, path, size);
    }
    const index = Buffer.from(`${canonicalJson(exportIndex(images))}\n`);
    await addBuffer(pack, header("index.json", "file", index.length), index);
    const layout = Buffer.from(OCI_LAYOUT_FILE);
    await addBuffer(pack, header("oci-layout", "file", layout.length), layout);
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
    await written.catch(() => undefined);
    throw err;
  }
  await written;
}

/**
 * Writes `images` and every blob they reference as an OCI archive (a tar of an OCI image layout)
 * at `dest`, or to stdout when dest is "-". The file appears complete or not at all.
 */
export async function exportOciArchive(
  store: ContentStore,
  images: ImageRecord[],
  dest: string,
): Promise<void> {
  const blobs = await exportBlobs(store, images);
  if (dest === "-") {
    await packArchive(store, images, blobs, stdoutKeptOpen());
    return;
  }
  // A save killed mid-write left its temp (up to the archive's size) beside dest: gone now.
  sweepTempsBeside(dest);
  const tmp = tempPathBeside(dest);
  let fh: FileHandle;
  try {
    fh = await open(tmp, "wx", 0o644);
  } catch (err) {
    throw new TsbuildError(`output ${dest}: ${(err as Error).message}`, { cause: err });
  }
  try {
    await packArchive(store, images, blobs, new FileHandleWritable(fh));
    await fh.sync();
    await fh.close();
    await rename(tmp, dest);
    fsyncDir(dirname(dest));
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    if (systemFailure(err)) throw new TsbuildError(`output ${dest}: ${describeError(err)}`, { cause: err });
    throw err;
  }
}

/** stdout as a pipeline target that the pipeline does not end: the process may still write to it. */
function stdoutKeptOpen(): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      process.stdout.write(chunk, (err) => cb(err ?? null));
    },
  });
}
