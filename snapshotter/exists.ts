import type { Snapshotter } from "./types.js";

/** Whether the snapshotter has `name` (stat succeeds). */
export async function snapshotExists(sn: Snapshotter, name: string): Promise<boolean> {
  try {
    await sn.stat(name);
    return true;
  } catch {
    return false;
  }
}
