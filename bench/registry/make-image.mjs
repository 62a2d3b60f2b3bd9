// Writes a ~500 MB test image straight into a tsbuild store (dist/ must be built): incompressible
// random layers and compressible text layers, gzip level 1, under the given name.
// usage: node bench/registry/make-image.mjs STORE_ROOT NAME
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, rmSync } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { pack } from "tar-stream";

const repo = new URL("../..", import.meta.url).pathname;
const { openContentStore } = await import(join(repo, "dist/src/store/content.js"));
const { writeImage } = await import(join(repo, "dist/src/image/write.js"));
const { normalizeImageName } = await import(join(repo, "dist/src/oci/reference.js"));

const [root, name] = process.argv.slice(2);
if (!root || !name) throw new Error("usage: make-image.mjs STORE_ROOT NAME");
const MiB = 1 << 20;
const FILE = 16 * MiB;

function randomFile() {
  return randomBytes(FILE);
}
/** Text that gzip shrinks about 4×: words drawn from a small random vocabulary. */
function textFile() {
  const words = Array.from({ length: 4096 }, () => randomBytes(6).toString("base64url"));
  const parts = [];
  let n = 0;
  while (n < FILE) {
    const w = `${words[(Math.random() * words.length) | 0]} `;
    parts.push(w);
    n += w.length;
  }
  return Buffer.from(parts.join("")).subarray(0, FILE);
}

const layersSpec = [
  { files: 8, make: randomFile },
  { files: 8, make: randomFile },
  { files: 8, make: textFile },
  { files: 6, make: randomFile },
  { files: 6, make: textFile },
];

const store = await openContentStore(root);
const layers = [];
const diffIds = [];
for (const [i, spec] of layersSpec.entries()) {
  const tmp = join(root, `layer-${i}.tar.gz`);
  const p = pack();
  const diff = createHash("sha256");
  p.on("data", (c) => diff.update(c));
  const written = pipeline(p, createGzip({ level: 1, chunkSize: 256 * 1024 }), createWriteStream(tmp));
  for (let f = 0; f < spec.files; f++) {
    await new Promise((resolve, reject) =>
      p.entry({ name: `l${i}/f${f}.bin`, mode: 0o644, mtime: new Date(0) }, spec.make(), (e) =>
        e ? reject(e) : resolve(),
      ),
    );
  }
  p.finalize();
  await written;
  const w = await store.ingest();
  await pipeline(createReadStream(tmp), w.stream);
  const { digest, size } = await w.commit();
  rmSync(tmp);
  layers.push({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest, size });
  diffIds.push(`sha256:${diff.digest("hex")}`);
}
const manifest = await writeImage(store, {
  config: { architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: diffIds } },
  layers,
});
await store.setImage(normalizeImageName(name), manifest);
const total = layers.reduce((n, l) => n + l.size, 0);
process.stdout.write(`${manifest.digest} ${total}\n`);
