// What an op is, after BuildKit's solver/types.go Op (CacheMap + Exec): a layer-producing instruction
// (RUN, COPY, ADD, WORKDIR's mkdir) turned into the inputs of its cache key and the work that makes
// its layer. The op does no cache lookup, no recording, no diff and no progress: the step runner
// (builder/solve/step-runner.ts) alone looks up, runs, records and reports, the same way for every op.
import type { Mount } from "../../snapshotter/types.js";
import type { ProgressSink } from "../../src/progress/events.js";
import type { ContentStore } from "../../src/store/types.js";
import type { Snapshotter } from "../../snapshotter/types.js";
import type { SandboxRunner } from "../../native/sandbox.js";
import type { ContextHasher } from "../context/checksum.js";
import type { PatternMatcher } from "../context/dockerignore.js";
import type { ShellLex } from "../dockerfile/shell.js";
import type { RunLimits } from "./run-limits.js";
import type { RunUsage } from "./run-usage.js";
import type { StageState } from "../state.js";
import type { SecretSource } from "./mounts/secrets.js";
import type { SshSources } from "./mounts/ssh.js";

export interface LayerOp {
  /** The instruction kind, first part of the key: "RUN", "COPY", "ADD", "WORKDIR". */
  readonly kind: string;
  /**
   * Everything besides the parent rootfs that decides the step's result, as plain data (its canonical
   * JSON goes into the key). Computing it may have cost work (checksums, ls-remote): it is done once.
   */
  readonly inputs: Record<string, unknown>;
  /** Changes the active snapshot (mounts: the snapshotter's) into the step's result. */
  exec(mounts: Mount[]): Promise<ExecReport>;
  /** Frees what the op holds for exec (downloads) when the runner found a hit and never calls exec. */
  release?(): void;
}

export interface ExecReport {
  /** What a RUN's process tree used, for the metrics file. */
  usage?: RunUsage;
}

/** A directory files are copied from: the build context or a named context. */
export interface SourceDir {
  root: string;
  matcher?: PatternMatcher;
  hasher: ContextHasher;
}

/** Where `--from` and the default source resolve. */
export interface CopySources {
  context: SourceDir;
  /** A named build context (`--build-context name=dir`), if `ref` is one. */
  named(ref: string): SourceDir | undefined;
  /** The final state of the stage (or local image) named by `ref`; undefined if there is none. */
  state(ref: string): Promise<StageState | undefined>;
}

/** A COPY --from checksum memo shared with the remote cache (stage-checksum.ts). */
export interface StageSumHooks {
  /** A checksum an imported cache knows, so that a stage need not be fetched to compute it. */
  stageSum(memoKey: string): string | undefined;
  /** A checksum this build used: exported with the records. */
  observeStageSum(memoKey: string, sum: string): void;
}

/** What the ops need from the build to make their inputs and do their work. */
export interface OpContext {
  store: ContentStore;
  snapshotter: Snapshotter;
  progress: ProgressSink;
  signal: AbortSignal;
  /** The store root: RUN --mount=type=cache keeps its dirs under it, COPY --from memoizes checksums. */
  root: string;
  /** Expands words with the stage's ARG/ENV, as BuildKit does. */
  lex: ShellLex;
  /** The Dockerfile's lines, for errors that show where they are. */
  sourceLines: string[];
  /** Where COPY --from and RUN --mount=type=bind read from: the context, named contexts, stages. */
  sources: CopySources;
  /** Where RUN's sandboxes come from: the build's SandboxPool. */
  sandboxes: SandboxRunner;
  /** The resource limits of every RUN (`--memory`, `--pids-limit`, …); absent: the defaults. */
  runLimits?: RunLimits;
  /** `--secret id=X,src=FILE|env=VAR` from the CLI, by id; values are read only when a RUN mounts them. */
  secrets?: Record<string, SecretSource>;
  /** `--ssh ID[=SOCKET]` from the CLI: the ssh-agent socket of each id, for RUN --mount=type=ssh. */
  ssh?: SshSources;
  /** COPY --from checksums an imported remote cache knows, and the ones to export. */
  stageSums?: StageSumHooks;
  /** `--build-arg HTTP_PROXY=…` and its kin as `K=V`: every RUN's env, never a key input. */
  proxyEnv?: readonly string[];
}
