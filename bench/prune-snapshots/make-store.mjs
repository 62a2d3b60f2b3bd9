// Fills a fresh tsbuild store with N committed snapshots, in chains of 10 with one tiny file each,
// and a cache record per snapshot, so that `tsbuild prune --all` has all of them to remove. Goes
// through the snapshotter of REPO's dist/ (npm run build first), as builds do.
// usage: node bench/prune-snapshots/make-store.mjs REPO STORE_ROOT N
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [repo, root, count] = process.argv.slice(2);
const n = Number(count);
if (!repo || !root || !Number.isInteger(n) || n < 1)
  throw new Error("usage: make-store.mjs REPO STORE_ROOT N");
const { openOverlaySnapshotter } = await import(join(repo, "dist/snapshotter/overlay.js"));
const { openContentStore } = await import(join(repo, "dist/src/store/content.js"));

// The snapshot's own dir, as its checkout's snapshotter gives it: read out of the mounts today, asked
// for by key in checkouts from before the mounts-only interface (for before/after runs).
const mount = await import(join(repo, "dist/snapshotter/mount.js"));
const upperOf = async (key, mounts) => (sn.upperDir ? sn.upperDir(key) : mount.upperDirOf(mounts));

const CHAIN = 10;
const sha = (text) => createHash("sha256").update(text).digest("hex");
await openContentStore(root);
const sn = await openOverlaySnapshotter(join(root, "snapshots"));
const cache = join(root, "cache");
mkdirSync(cache, { recursive: true });
const created = new Date().toISOString();
let parent;
for (let i = 0; i < n; i++) {
  if (i % CHAIN === 0) parent = undefined;
  const name = `chain:sha256:${sha(`snapshot ${i}`)}`;
  const key = `active/bench-${i}`;
  const mounts = await sn.prepare(key, parent);
  writeFileSync(join(await upperOf(key, mounts), `f${i}`), `${i}\n`);
  await sn.commit(name, key);
  // What a RUN step's cache record looks like (builder/cache/records.ts), minus the layer blob.
  const record = { key: `sha256:${sha(`step ${i}`)}`, snapshot: name, created, durationMs: 1 };
  writeFileSync(join(cache, `${record.key.slice(7)}.json`), `${JSON.stringify(record)}\n`);
  parent = name;
}
