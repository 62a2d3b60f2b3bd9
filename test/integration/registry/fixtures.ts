// Small images made directly in a store (tar-stream + gzip + writeImage), independent of the builder.
import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";
import { writeImage } from "../../../src/image/write.js";
import { sha256 } from "../../../src/oci/digest.js";
import { type Descriptor, MediaType } from "../../../src/oci/types.js";
import type { ContentStore } from "../../../src/store/types.js";

export async function tarOf(files: Record<string, Buffer | string>): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on("data", (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    p.on("end", resolve);
    p.on("error", reject);
  });
  for (const [name, content] of Object.entries(files)) {
    p.entry({ name, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0 }, content);
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Writes an image whose layers hold the given files; a `random` size adds an incompressible file. */
export async function makeImage(
  store: ContentStore,
  name: string,
  layers: { files: Record<string, Buffer | string>; random?: number }[],
  compression: "gzip" | "none" = "gzip",
): Promise<Descriptor> {
  const descs: Descriptor[] = [];
  const diffIds: string[] = [];
  for (const l of layers) {
    const files = { ...l.files };
    if (l.random) files["random.bin"] = randomBytes(l.random);
    const tar = await tarOf(files);
    const blob = compression === "gzip" ? gzipSync(tar, { level: 1 }) : tar;
    const written = await store.writeBlob(blob);
    const mediaType = compression === "gzip" ? MediaType.layerGzip : MediaType.layerTar;
    descs.push({ mediaType, digest: written.digest, size: written.size });
    diffIds.push(sha256(tar));
  }
  const manifest = await writeImage(store, {
    config: {
      architecture: "amd64",
      os: "linux",
      config: { Cmd: ["/bin/sh"] },
      rootfs: { type: "layers", diff_ids: diffIds },
    },
    layers: descs,
  });
  await store.setImage(name, manifest);
  return manifest;
}
