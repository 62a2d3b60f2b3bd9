import { join } from "node:path";
import { openOverlaySnapshotter } from "../snapshotter/overlay.js";
import type { Snapshotter } from "../snapshotter/types.js";
import { openContentStore } from "../src/store/content.js";
import type { ContentStore } from "../src/store/types.js";
import { storeRoot } from "./store-root.js";

export interface OpenedStore {
  root: string;
  store: ContentStore;
  snapshotter: Snapshotter;
}

export async function openStore(): Promise<OpenedStore> {
  const root = storeRoot();
  const store = await openContentStore(root);
  const snapshotter = await openOverlaySnapshotter(join(root, "snapshots"));
  return { root, store, snapshotter };
}
