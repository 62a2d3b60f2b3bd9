import { mkdirSync, readFileSync, readdirSync, statSync, unlinkSync, utimesSync } from "node:fs";
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Descriptor, Digest } from "../../src/oci/types.js";
import { digestHex } from "../../src/oci/digest.js";
import { writeFileAtomicAsync } from "../../src/util/atomic.js";
import { sweepTemps } from "../../src/util/temp-files.js";

/** What a cache hit restores without re-running or re-diffing the step. */
export interface CacheRecord {
  key: Digest;
  /** Committed snapshot holding the step's result (the parent's when the step changed nothing). */
  snapshot?: string;
  /** The layer the step produced; absent for a step whose diff was empty. */
  layer?: Descriptor;
  diffId?: Digest;
  /** When the step originally ran (ISO 8601); becomes the history entry's time. */
  created: string;
  /** How long the step originally took: what a hit saves. */
  durationMs: number;
  /** Last hit or write: the record file's mtime (see touch), filled in when read. */
  lastUsed: string;
}

/**
 * One small JSON file per key under cache/, written atomically: a killed build leaves whole records
 * only. Writes go to the thread pool (the next step need not wait for a record's fsyncs) and are
 * served from memory until they land; flush() waits for them and reports the first failure.
 */
export class CacheRecords {
  private readonly writing = new Map<Digest, { record: CacheRecord; done: Promise<void> }>();
  private failure: Error | undefined;

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private path(key: Digest): string {
    return join(this.dir, `${digestHex(key)}.json`);
  }

  get(key: Digest): CacheRecord | undefined {
    const inFlight = this.writing.get(key);
    if (inFlight) return { ...inFlight.record };
    try {
      const path = this.path(key);
      const rec = JSON.parse(readFileSync(path, "utf8")) as CacheRecord;
      rec.lastUsed = statSync(path).mtime.toISOString();
      return rec;
    } catch {
      // Missing or unreadable (e.g. from an older format): a miss, and the next write replaces it.
      return undefined;
    }
  }

  put(record: CacheRecord): void {
    const done = writeFileAtomicAsync(this.path(record.key), `${JSON.stringify(record)}\n`).then(
      () => {
        if (this.writing.get(record.key)?.done === done) this.writing.delete(record.key);
      },
      (err: Error) => {
        this.failure ??= new Error(`cache record ${record.key}: ${err.message}`, { cause: err });
        if (this.writing.get(record.key)?.done === done) this.writing.delete(record.key);
      },
    );
    this.writing.set(record.key, { record: { ...record }, done });
  }

  /** Waits for every record written so far; throws if one could not be written. */
  async flush(): Promise<void> {
    await Promise.all([...this.writing.values()].map((w) => w.done));
    if (this.failure) throw this.failure;
  }

  /**
   * Marks a hit by bumping the file's mtime instead of rewriting it: a hit then costs no write, fsync
   * or rename (six of them were a third of a no-change rebuild), and a lost update only ages the
   * record for LRU pruning.
   */
  touch(record: CacheRecord): void {
    if (this.writing.has(record.key)) return; // being written now: its mtime is now anyway
    const now = new Date();
    try {
      utimesSync(this.path(record.key), now, now);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }

  /** Removes the temps of record writes cut short by a killed process (src/util/temp-files.ts). */
  sweepTemps(): string[] {
    return sweepTemps(this.dir);
  }

  /** Every readable record (for garbage collection). */
  list(): CacheRecord[] {
    const out: CacheRecord[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!/^[0-9a-f]{64}\.json$/.test(name)) continue;
      const rec = this.get(`sha256:${name.slice(0, 64)}`);
      if (rec) out.push(rec);
    }
    return out;
  }

  /** remove() on the thread pool: a prune removes many at once (each a synchronous TRIM on `discard`). */
  async removeAsync(key: Digest): Promise<void> {
    try {
      await unlink(this.path(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }

  remove(key: Digest): void {
    try {
      unlinkSync(this.path(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
}
