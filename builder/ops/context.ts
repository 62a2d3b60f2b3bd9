import type { ContentStore } from "../../src/store/types.js";
import type { Compression } from "../../src/oci/types.js";
import type { ProgressSink } from "../../src/progress/events.js";
import type { Snapshotter } from "../../snapshotter/types.js";
import type { CacheRecords } from "../cache/records.js";

/** What every op needs from the build: the stores, the progress stream and the cancellation signal. */
export interface OpContext {
  store: ContentStore;
  snapshotter: Snapshotter;
  cache: CacheRecords;
  progress: ProgressSink;
  signal: AbortSignal;
  compression: Compression;
  sourceDateEpoch?: number;
  noCache: boolean;
}
