import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../../src/util/atomic.js";
import type { FileStat } from "../../native/file-stat.js";

/** 2: fingerprints from FileStat.changeKey. */
const MEMO_VERSION = 2;

/**
 * Content hashes keyed by path and validated by a stat fingerprint, so an unchanged file is never read
 * twice; kept in memory and, with a file, across processes (written atomically: a torn memo would be
 * worse than none). A memo that cannot be read is treated as empty: it is only a cache.
 */
export class ContentHashMemo {
  private readonly entries = new Map<string, [fingerprint: string, hex: string]>();
  private dirty = false;

  constructor(private readonly file?: string) {
    if (file) this.load(file);
  }

  get(key: string, st: FileStat): string | undefined {
    const hit = this.entries.get(key);
    return hit && hit[0] === st.changeKey ? hit[1] : undefined;
  }

  set(key: string, st: FileStat, hex: string): void {
    this.entries.set(key, [st.changeKey, hex]);
    this.dirty = true;
  }

  /** Persists new entries, if there is a file and anything changed. */
  save(): void {
    if (!this.file || !this.dirty) return;
    const data = { version: MEMO_VERSION, entries: Object.fromEntries(this.entries) };
    writeFileAtomic(this.file, JSON.stringify(data));
    this.dirty = false;
  }

  private load(file: string): void {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      return;
    }
    if (!isMemoFile(data)) return;
    for (const [key, value] of Object.entries(data.entries)) {
      if (Array.isArray(value) && typeof value[0] === "string" && typeof value[1] === "string") {
        this.entries.set(key, [value[0], value[1]]);
      }
    }
  }
}

function isMemoFile(data: unknown): data is { version: number; entries: Record<string, unknown> } {
  if (typeof data !== "object" || data === null) return false;
  const d = data as { version?: unknown; entries?: unknown };
  return d.version === MEMO_VERSION && typeof d.entries === "object" && d.entries !== null;
}
