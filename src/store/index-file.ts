import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TsbuildError } from "../errors.js";
import { type Descriptor, type ImageIndex, MediaType, REF_NAME_ANNOTATION } from "../oci/types.js";
import { writeFileAtomic } from "../util/atomic.js";
import type { ImageRecord } from "./types.js";

// index.json of the store: one manifest descriptor per image name, named by the ref.name annotation.
// Callers that modify it hold the store's index lock.

export function readIndex(root: string): ImageIndex {
  const path = join(root, "index.json");
  try {
    const index = JSON.parse(readFileSync(path, "utf8")) as ImageIndex;
    if (!Array.isArray(index.manifests)) throw new Error("no manifests array");
    return index;
  } catch (err) {
    throw new TsbuildError(`${path}: unreadable image index: ${(err as Error).message}`);
  }
}

function writeIndex(root: string, index: ImageIndex): void {
  writeFileAtomic(join(root, "index.json"), `${JSON.stringify(index, null, 2)}\n`);
}

/** The named images of an index; the ref.name annotation is taken off the returned target. */
export function imageRecords(index: ImageIndex): ImageRecord[] {
  const out: ImageRecord[] = [];
  for (const d of index.manifests) {
    const name = d.annotations?.[REF_NAME_ANNOTATION];
    if (name === undefined) continue;
    const { [REF_NAME_ANNOTATION]: _, ...rest } = d.annotations ?? {};
    const target: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
    if (Object.keys(rest).length > 0) target.annotations = rest;
    if (d.platform) target.platform = d.platform;
    out.push({ name, target });
  }
  return out;
}

export function setImageRef(root: string, name: string, target: Descriptor): void {
  const index = readIndex(root);
  const entry: Descriptor = {
    ...target,
    annotations: { ...target.annotations, [REF_NAME_ANNOTATION]: name },
  };
  const at = index.manifests.findIndex((d) => d.annotations?.[REF_NAME_ANNOTATION] === name);
  // Re-tagging the same manifest (every no-change rebuild) needs no rewrite and no fsync.
  if (at >= 0 && JSON.stringify(index.manifests[at]) === JSON.stringify(entry)) return;
  if (at >= 0) index.manifests[at] = entry;
  else index.manifests.push(entry);
  index.mediaType ??= MediaType.imageIndex;
  writeIndex(root, index);
}

export function removeImageRef(root: string, name: string): boolean {
  const index = readIndex(root);
  const kept = index.manifests.filter((d) => d.annotations?.[REF_NAME_ANNOTATION] !== name);
  if (kept.length === index.manifests.length) return false;
  index.manifests = kept;
  writeIndex(root, index);
  return true;
}
