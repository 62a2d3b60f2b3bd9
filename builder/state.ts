import type { Descriptor, ImageConfig } from "../src/oci/types.js";
import { childChain } from "../snapshotter/chain.js";
import type { CacheRecord } from "./cache/records.js";

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
export const DEFAULT_SHELL = ["/bin/sh", "-c"];
export const EPOCH = new Date(0).toISOString();

/** The state of a stage between two instructions: the image so far plus what only the build sees. */
export interface StageState {
  config: ImageConfig;
  layers: Descriptor[];
  /** Top committed snapshot; undefined while the rootfs is empty (FROM scratch, nothing added). */
  snapshot?: string;
  /** Content identity of the rootfs: the top chain id, or SCRATCH (snapshotter/chain.ts). Cache keys build on it. */
  identity: string;
  /** Stage-scoped ARG values (visible to expansion and to RUN as env, never stored in the image). */
  args: Map<string, string>;
  shell: string[];
  /** CMD set in this stage (ENTRYPOINT then keeps it; otherwise ENTRYPOINT clears the inherited one). */
  cmdSet: boolean;
  /** Time of the newest layer so far: meta history entries reuse it, so unchanged rebuilds are byte-identical. */
  lastCreated: string;
}

export function emptyImageConfig(): ImageConfig {
  return {
    architecture: "amd64",
    os: "linux",
    config: {},
    rootfs: { type: "layers", diff_ids: [] },
    history: [],
  };
}

/** Deep copy, so dispatching one stage never mutates the state another stage (or a base) shares. */
export function cloneState(s: StageState): StageState {
  return {
    ...s,
    config: structuredClone(s.config),
    layers: [...s.layers],
    args: new Map(s.args),
    shell: [...s.shell],
  };
}

/** Env of the image as a map, in order. */
export function envMap(config: ImageConfig): Map<string, string> {
  const m = new Map<string, string>();
  for (const kv of config.config.Env ?? []) {
    const i = kv.indexOf("=");
    if (i > 0) m.set(kv.slice(0, i), kv.slice(i + 1));
  }
  return m;
}

/** Sets one variable; an existing one is replaced in place (Docker, BuildKit and buildah keep its position). */
export function setEnv(config: ImageConfig, key: string, value: string): void {
  const env = [...(config.config.Env ?? [])];
  const i = env.findIndex((kv) => kv.startsWith(`${key}=`));
  if (i >= 0) env[i] = `${key}=${value}`;
  else env.push(`${key}=${value}`);
  config.config.Env = env;
}

/** Variable lookup for word expansion: ENV wins over ARG, as in BuildKit. */
export function expansionEnv(s: StageState): (name: string) => string | undefined {
  const env = envMap(s.config);
  return (name) => env.get(name) ?? s.args.get(name);
}

/** Moves a stage forward by a step's result (fresh or from cache). */
export function applyRecord(s: StageState, record: CacheRecord, createdBy: string): void {
  if (record.layer && record.diffId && record.snapshot) {
    s.layers.push(record.layer);
    s.config.rootfs.diff_ids.push(record.diffId);
    s.identity = childChain(s.identity, record.diffId);
    s.snapshot = record.snapshot;
  }
  s.lastCreated = record.created;
  s.config.history = [
    ...(s.config.history ?? []),
    {
      created: record.created,
      created_by: createdBy,
      comment: "tsbuild",
      ...(record.layer ? {} : { empty_layer: true }),
    },
  ];
}
