// The image-name half of the content store: index.json of the store's OCI layout, one manifest
// descriptor per image name, named by the ref.name annotation. Writers hold the store's index lock.
import { TsbuildError } from "../errors.js";
import type { OciLayoutDir } from "../oci/layout.js";
import { type Descriptor, type ImageIndex, MediaType, REF_NAME_ANNOTATION } from "../oci/types.js";
import { withStoreLock } from "./lock.js";
import type { ImageNames, ImageRecord } from "./types.js";

/** The lock that guards index.json. */
export const INDEX_LOCK = "index";

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

export class IndexImageNames implements ImageNames {
  constructor(private readonly layout: OciLayoutDir) {}

  private read(): ImageIndex {
    const index = this.layout.readIndex();
    if (!index) throw new TsbuildError(`${this.layout.dir}/index.json: unreadable image index: missing`);
    return index;
  }

  private write(index: ImageIndex): void {
    this.layout.writeIndex(index, { pretty: true });
  }

  async listImages(): Promise<ImageRecord[]> {
    return imageRecords(this.read());
  }

  async getImage(name: string): Promise<ImageRecord | undefined> {
    return (await this.listImages()).find((r) => r.name === name);
  }

  async setImage(name: string, target: Descriptor): Promise<void> {
    await withStoreLock(this.layout.dir, INDEX_LOCK, () => {
      const index = this.read();
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
      this.write(index);
    });
  }

  async removeImage(name: string): Promise<boolean> {
    return withStoreLock(this.layout.dir, INDEX_LOCK, () => {
      const index = this.read();
      const kept = index.manifests.filter((d) => d.annotations?.[REF_NAME_ANNOTATION] !== name);
      if (kept.length === index.manifests.length) return false;
      index.manifests = kept;
      this.write(index);
      return true;
    });
  }
}
