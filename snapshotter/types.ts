// The snapshotter contract, after containerd's: a small state machine over keys.
// Implementations return mount specs; they never mount for the caller.

/** A mount spec, as mount(2) wants it. For overlay, options carry lowerdir/upperdir/workdir. */
export interface Mount {
  type: string; // "overlay" | "bind" | "tmpfs"
  source: string;
  options: string[];
}

export type SnapshotKind = "active" | "view" | "committed";

export interface SnapshotInfo {
  /** The key (active/view) or name (committed) the snapshot is known by. */
  name: string;
  kind: SnapshotKind;
  /** Name of the committed parent, if any. */
  parent?: string;
  /** Short on-disk id: snapshots/<id>/fs holds the upper (or extracted) tree. */
  id: string;
  labels: Record<string, string>;
  created: string;
  updated: string;
}

export interface Usage {
  size: number; // bytes on disk in this snapshot's own fs dir
  inodes: number;
}

export interface Snapshotter {
  /** A new active (writable) snapshot over the committed parent chain. Fails if key exists. */
  prepare(key: string, parent?: string, labels?: Record<string, string>): Promise<Mount[]>;
  /** A read-only view of a committed snapshot. Fails if key exists. */
  view(key: string, parent: string, labels?: Record<string, string>): Promise<Mount[]>;
  /** The mounts of an existing active snapshot or view. */
  mounts(key: string): Promise<Mount[]>;
  /** active → committed under `name`, immutable from then on. Views cannot be committed. */
  commit(name: string, key: string, labels?: Record<string, string>): Promise<void>;
  /** Removes an active, view or committed snapshot. A committed one with children cannot be removed. */
  remove(key: string): Promise<void>;
  stat(key: string): Promise<SnapshotInfo>;
  walk(fn: (info: SnapshotInfo) => void | Promise<void>): Promise<void>;
  usage(key: string): Promise<Usage>;
  /** Directory holding the snapshot's own files (the overlay upperdir for an active snapshot). */
  upperDir(key: string): Promise<string>;
  /** Committed fs dirs of the chain under `key` (or of `key` itself if committed), nearest first. */
  lowerDirs(key: string): Promise<string[]>;
}
