import { readdirSync } from "node:fs";
import { join } from "node:path";
import { referencedBlobs } from "../image/walk.js";
import type { ContentStore } from "./types.js";

export interface StoreCheck {
  /** How many blobs were re-hashed. */
  checked: number;
  /** One line per problem, starting with the digest (or file) it is about. */
  bad: string[];
}

/** Re-hashes every blob and checks that everything reachable from index.json is present. */
export async function verifyStore(store: ContentStore): Promise<StoreCheck> {
  const bad: string[] = [];
  const dir = join(store.root, "blobs", "sha256");
  const names = readdirSync(dir).sort();
  let checked = 0;
  for (const name of names) {
    if (!/^[0-9a-f]{64}$/.test(name)) {
      bad.push(`${join(dir, name)}: not a blob name`);
      continue;
    }
    checked++;
    if (!(await store.verify(`sha256:${name}`)))
      bad.push(`sha256:${name}: content does not match its digest`);
  }
  for (const image of await store.listImages()) {
    try {
      const { missing } = await referencedBlobs(store, [image.target]);
      for (const d of missing) bad.push(`${d.digest}: missing (referenced by image ${image.name})`);
    } catch (err) {
      bad.push(`${image.target.digest}: ${(err as Error).message} (image ${image.name})`);
    }
  }
  return { checked, bad };
}
