import { randomBytes } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  renameSync,
} from "node:fs";
import { join } from "node:path";
import { TsbuildError } from "../errors.js";
import { canonicalJson } from "../oci/canonical-json.js";
import { digestHex } from "../oci/digest.js";
import type { Descriptor, ImageIndex } from "../oci/types.js";
import type { ContentStore, ImageRecord } from "../store/types.js";
import { fsyncDir, writeFileAtomic } from "../util/atomic.js";
import { CONTAINERD_NAME_ANNOTATION, exportBlobs, exportIndex } from "./export-set.js";
import { OCI_LAYOUT_FILE } from "./oci-layout-file.js";

/**
 * Writes `images` and their blobs into the OCI image layout directory `dest` (created if needed).
 * An existing layout keeps its other images; an image of the same name is replaced.
 */
export async function exportOciLayout(
  store: ContentStore,
  images: ImageRecord[],
  dest: string,
): Promise<void> {
  const blobDir = join(dest, "blobs", "sha256");
  try {
    mkdirSync(blobDir, { recursive: true });
  } catch (err) {
    throw new TsbuildError(`output ${dest}: ${(err as Error).message}`);
  }
  for (const d of await exportBlobs(store, images))
    copyBlob(store.blobPath(d.digest), join(blobDir, digestHex(d.digest)));
  fsyncDir(blobDir);

  const index = exportIndex(images);
  const names = new Set(images.map((i) => i.name));
  const kept = existingManifests(dest).filter(
    (d) => !names.has(d.annotations?.[CONTAINERD_NAME_ANNOTATION] ?? ""),
  );
  const merged: ImageIndex = { ...index, manifests: [...kept, ...index.manifests] };
  writeFileAtomic(join(dest, "oci-layout"), OCI_LAYOUT_FILE);
  writeFileAtomic(join(dest, "index.json"), `${canonicalJson(merged)}\n`);
}

/** Copies a blob so that it is either absent or complete under its final name. */
function copyBlob(src: string, dest: string): void {
  if (existsSync(dest)) return; // content-addressed: same name, same bytes
  const tmp = `${dest}.tmp-${randomBytes(6).toString("hex")}`;
  copyFileSync(src, tmp);
  const fd = openSync(tmp, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, dest);
}

function existingManifests(dest: string): Descriptor[] {
  const path = join(dest, "index.json");
  if (!existsSync(path)) return [];
  try {
    const index = JSON.parse(readFileSync(path, "utf8")) as ImageIndex;
    return Array.isArray(index.manifests) ? index.manifests : [];
  } catch (err) {
    throw new TsbuildError(`output ${path}: unreadable image index: ${(err as Error).message}`);
  }
}
