import type { ContentStore } from "../../src/store/types.js";
import type { Compression } from "../../src/oci/types.js";
import type { ProgressSink } from "../../src/progress/events.js";
import type { Snapshotter } from "../../snapshotter/types.js";
import type { CacheRecords } from "../cache/records.js";
import type { RemoteCacheHooks } from "../cache/remote/session.js";
import type { StepProbe } from "../metrics.js";
import type { ShellLex } from "../dockerfile/shell.js";
import type { CopySources } from "./file.js";
import type { SecretSource } from "./mounts/secrets.js";
import type { SshSources } from "./mounts/ssh.js";
import type { SandboxRunner } from "../../native/sandbox.js";

/** `missing` (default): pull only images the store lacks; `always`: `--pull`; `never`: offline. */
export type PullPolicy = "missing" | "always" | "never";

export interface PullSettings {
  policy: PullPolicy;
  insecureRegistries: string[];
}

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
  /** The store root: RUN --mount=type=cache keeps its dirs under it (cache-mounts/). */
  root?: string;
  /** `--secret id=X,src=FILE|env=VAR` from the CLI, by id; values are read only when a RUN mounts them. */
  secrets?: Record<string, SecretSource>;
  /** `--ssh ID[=SOCKET]` from the CLI: the ssh-agent socket of each id, for RUN --mount=type=ssh. */
  ssh?: SshSources;
  /** Where RUN --mount=type=bind reads from (context, named contexts, stages); set once the solver exists. */
  mountSources?: CopySources;
  /** Expands RUN --mount option values with the stage's ARG/ENV, as BuildKit does. */
  lex?: ShellLex;
  /** When FROM / COPY --from may fetch an image from its registry. */
  pull?: PullSettings;
  /** `--cache-from` / `--cache-to`: remote records a local miss falls back to; every step's record is noted. */
  remoteCache?: RemoteCacheHooks;
  /** Set on the copy of the context one step runs with: the ops note their key, layer size and usage here. */
  step?: StepProbe;
  /** Where RUN's sandboxes come from: the build's SandboxPool; one launcher per run without it. */
  sandboxes?: SandboxRunner;
}
