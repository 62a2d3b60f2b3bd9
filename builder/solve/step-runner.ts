// The one owner of the cache protocol, as BuildKit's solver is for its ops: for every layer step it
// asks the op for its inputs, makes the key, looks it up (local records, then the imported remote
// caches), and on a hit applies the record; on a miss it has the op do its work on a fresh snapshot
// (make-layer.ts), records the result and applies it. It also reports the step's progress and returns
// its figures: no op touches the cache, the progress stream or the metrics.
import { BuildStepError, TsbuildError, messageOf, systemErrorText, systemFailure } from "../../src/errors.js";
import type { Digest } from "../../src/oci/types.js";
import type { ProgressSink } from "../../src/progress/events.js";
import { snapshotExists } from "../../snapshotter/exists.js";
import type { SandboxRunner } from "../../native/sandbox.js";
import { stepCacheKey } from "../cache/keys.js";
import type { CacheRecord, CacheRecords } from "../cache/records.js";
import type { LayerOp } from "../ops/op.js";
import { type StageState, applyRecord, epochTime } from "../state.js";
import { type LayerMaker, makeLayer } from "./make-layer.js";
import { type StepMetrics, usageFigures } from "./step-metrics.js";

/** What the runner asks of the remote caches (--cache-from / --cache-to), if the build has any. */
export interface RemoteCacheHooks {
  /** A local miss: a record an imported cache holds, or undefined. */
  lookup(key: Digest): Promise<CacheRecord | undefined>;
  /** A step's result, hit or fresh: a candidate for export. */
  observe(record: CacheRecord): void;
}

export interface StepRunnerDeps extends LayerMaker {
  cache: CacheRecords;
  remote?: RemoteCacheHooks;
  progress: ProgressSink;
  /** Told of every miss, so that the RUNs to come find a sandbox launcher ready. */
  sandboxes?: Pick<SandboxRunner, "prepare">;
}

/**
 * The error boundary of a step: what the ops and the stores throw that is not already a tsbuild error
 * (a syscall's ENOSPC, a launcher that cannot exec) becomes one line naming the step and its line, exit
 * 1; the original stays as its cause, for --debug.
 */
function asStepError(step: StepSpec, err: unknown): unknown {
  if ((err as Error)?.name === "AbortError") return err;
  const system = systemFailure(err);
  if (err instanceof TsbuildError && !system) return err;
  const location = { file: step.file, startLine: step.line, endLine: step.line };
  const text = system ? systemErrorText(system) : messageOf(err);
  return new BuildStepError(`${step.file}:${step.line}: ${step.name}: ${text}`, location, { cause: err });
}

/** One step as the progress stream and the metrics know it. */
export interface StepSpec {
  id: string;
  /** The instruction as written: the step's name and its history entry. */
  name: string;
  /** The stage's name, or stage-N. */
  stage: string;
  /** 1-based position among the stage's layer steps, and their number. */
  index: number;
  total: number;
  line: number;
  /** The Dockerfile it comes from (the file name errors show). */
  file: string;
  /** Skip the lookup (--no-cache, or the stage is in --no-cache-filter). */
  noCache: boolean;
}

export class StepRunner {
  /** With SOURCE_DATE_EPOCH, every history entry this build adds carries it (as BuildKit's do). */
  readonly historyTime: string | undefined;

  constructor(private readonly deps: StepRunnerDeps) {
    const epoch = deps.scope.sourceDateEpoch;
    this.historyTime = epoch === undefined ? undefined : epochTime(epoch);
  }

  /**
   * Runs one step over `s` (which it moves forward): `makeOp` turns the instruction into an op once the
   * step has started (its inputs may take work: checksums, downloads). Resolves with the step's figures.
   */
  async run(step: StepSpec, s: StageState, makeOp: () => Promise<LayerOp>): Promise<StepMetrics> {
    const { progress, signal } = this.deps;
    // A step queued behind the limiter when the build failed must not start.
    signal.throwIfAborted();
    progress.emit({
      type: "step-start",
      id: step.id,
      name: step.name,
      stage: step.stage,
      index: step.index,
      total: step.total,
    });
    const start = Date.now();
    let op: LayerOp | undefined;
    try {
      op = await makeOp();
      const key = stepCacheKey({
        parent: s.identity,
        op: op.kind,
        inputs: op.inputs,
        scope: this.deps.scope,
      });
      const hit = step.noCache ? undefined : await this.lookup(key);
      return hit ? this.applyHit(step, s, key, hit, start) : await this.runMiss(step, s, key, op, start);
    } catch (err) {
      // A step stopped because another one failed is not this step's error.
      const system = systemFailure(err);
      const message =
        signal.aborted && err === signal.reason
          ? "CANCELED"
          : system
            ? systemErrorText(system)
            : (err as Error).message;
      progress.emit({ type: "step-error", id: step.id, name: step.name, message });
      throw asStepError(step, err);
    } finally {
      op?.release?.();
    }
  }

  private applyHit(step: StepSpec, s: StageState, key: Digest, hit: CacheRecord, start: number): StepMetrics {
    this.deps.remote?.observe(hit);
    applyRecord(s, hit, step.name, this.historyTime);
    const end = Date.now();
    this.deps.progress.emit({
      type: "step-cached",
      id: step.id,
      name: step.name,
      index: step.index,
      total: step.total,
      savedMs: hit.durationMs,
    });
    return {
      ...this.figures(step, key, start, end),
      cached: true,
      layerBytes: hit.layer?.size ?? 0,
      savedMs: hit.durationMs,
    };
  }

  private async runMiss(
    step: StepSpec,
    s: StageState,
    key: Digest,
    op: LayerOp,
    start: number,
  ): Promise<StepMetrics> {
    // A miss: the RUNs after it will likely miss too, so their first sandbox gets made now.
    this.deps.sandboxes?.prepare?.();
    const made = await makeLayer(this.deps, s, key, op);
    this.deps.remote?.observe(made.record);
    this.deps.cache.put(made.record);
    applyRecord(s, made.record, step.name, this.historyTime);
    const end = Date.now();
    this.deps.progress.emit({ type: "step-done", id: step.id, name: step.name, durationMs: end - start });
    const usage = made.report.usage;
    return {
      ...this.figures(step, key, start, end),
      cached: false,
      layerBytes: made.layerBytes,
      ...(usage ? usageFigures(usage) : {}),
    };
  }

  private figures(step: StepSpec, key: Digest, start: number, end: number) {
    return {
      id: step.id,
      stage: step.stage,
      instruction: step.name,
      line: step.line,
      cacheKey: key,
      start,
      end,
      durationMs: end - start,
    };
  }

  /**
   * A record counts only if what it points at still exists (a pruned snapshot or blob makes it a miss,
   * never a broken image). A local miss falls back to the imported remote caches, which fetch and
   * unpack just that record's missing layers, and only when something needs them.
   */
  private async lookup(key: Digest): Promise<CacheRecord | undefined> {
    const local = await this.localRecord(key);
    if (local) {
      this.deps.cache.touch(local);
      return local;
    }
    return this.deps.remote?.lookup(key);
  }

  private async localRecord(key: Digest): Promise<CacheRecord | undefined> {
    const rec = this.deps.cache.get(key);
    if (!rec) return undefined;
    if (rec.snapshot && !(await snapshotExists(this.deps.snapshotter, rec.snapshot))) return undefined;
    if (rec.layer && !this.deps.store.has(rec.layer.digest)) return undefined;
    return rec;
  }
}
