// Which cache records a prune keeps: a pure policy over the records' last use and what they hold.

export interface PrunePolicy {
  /** Remove every record. */
  all?: boolean;
  /** Remove records not used for this many ms (`--filter until=DURATION`). */
  unusedForMs?: number;
  /** Then remove least-recently-used records until what the rest hold fits in this many bytes. */
  keepStorage?: number;
}

export interface Candidate {
  key: string;
  lastUsed: string;
  /** Whether the snapshot and blob it points at still exist: a broken record is always removed. */
  intact: boolean;
  /** What keeping it costs: resource id (a snapshot or blob) → bytes. Shared resources count once. */
  holds: Map<string, number>;
}

/**
 * The keys to keep. Storage is counted over the union of what kept records and `pinned` (tagged
 * images) hold, adding records most recently used first; the first record that does not fit and
 * every older one go, so what is kept is always the most recent part of the history.
 */
export function recordsToKeep(
  candidates: Candidate[],
  policy: PrunePolicy,
  now: number,
  pinned: Map<string, number> = new Map(),
): Set<string> {
  if (policy.all) return new Set();
  let keep = candidates.filter((c) => c.intact);
  if (policy.unusedForMs !== undefined) {
    const cutoff = now - policy.unusedForMs;
    keep = keep.filter((c) => Date.parse(c.lastUsed) >= cutoff);
  }
  if (policy.keepStorage !== undefined) {
    const counted = new Map(pinned);
    let total = [...counted.values()].reduce((a, b) => a + b, 0);
    const mruFirst = [...keep].sort((a, b) => Date.parse(b.lastUsed) - Date.parse(a.lastUsed));
    keep = [];
    for (const c of mruFirst) {
      const added = [...c.holds].filter(([id]) => !counted.has(id));
      const extra = added.reduce((n, [, bytes]) => n + bytes, 0);
      if (total + extra > policy.keepStorage) break;
      for (const [id, bytes] of added) counted.set(id, bytes);
      total += extra;
      keep.push(c);
    }
  }
  return new Set(keep.map((c) => c.key));
}
