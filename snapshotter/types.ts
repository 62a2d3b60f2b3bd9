// The snapshotter contract, after containerd's core/snapshots/snapshotter.go: a small state machine
// over keys that hands out mount specs and never mounts for the caller.
//
// Terms
//   key        the name of an active snapshot or a view, chosen by the caller, unique while it exists.
//   name       the name of a committed snapshot, given at commit (tsbuild names layer chains
//              `chain:<chain id>`, snapshotter/chain.ts).
//   parent     the committed snapshot an active snapshot or view starts from; none for an empty one.
//   mounts     what the caller mounts to see the snapshot's filesystem: one overlay (lowerdirs =
//              the parent chain, upperdir/workdir for an active snapshot) or one bind mount.
//
// Lifecycle
//   prepare(key, parent?) -> active   a writable filesystem over parent's contents.
//   view(key, parent)     -> view     a read-only filesystem of parent's contents; never committed.
//   commit(name, key)     active -> committed: immutable from then on, a parent for others. The
//                          caller has unmounted it first.
//   remove(key|name)      any snapshot; a committed one only when no other snapshot has it as parent.
//
// The caller reaches a snapshot's files only through its mounts: to write into an active snapshot,
// mount it (snapshotter/mount.ts withMounts), or, where a differ or applier must read or write the
// overlay's own dirs (the upper as a layer, a layer extracted straight into the upper), derive them
// from the mounts with snapshotDirs() — the way BuildKit's util/overlay reads them — never by asking
// the snapshotter for paths.
//
// Worked example: a RUN step on top of an image whose top layer is committed as P.
//   mounts = prepare("active/1", P)          overlay: lowerdir=P's chain, upperdir, workdir
//   ... mount, run the command, unmount ...
//   layer = diff(snapshotDirs(mounts))       the upper's changes, with whiteouts
//   commit("chain:<P's chain + layer>", "active/1")
// and to read a committed snapshot C (COPY --from): mounts = view("view/2", C); mount; read; remove("view/2").
//
// Every implementation (and every wrapper, such as the lazy remote-cache snapshotter) passes the one
// conformance suite in test/integration/snapshotter/conformance.test.ts, which touches snapshots only
// through their mounts.

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
  /** Short on-disk id of the snapshot's own tree. */
  id: string;
  labels: Record<string, string>;
  created: string;
  updated: string;
}

export interface Usage {
  size: number; // bytes on disk in this snapshot's own tree
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
}
