import type { Descriptor, ImageConfig } from "../src/oci/types.js";
import { childChain } from "../snapshotter/chain.js";
import type { CacheRecord } from "./cache/records.js";

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
export const DEFAULT_SHELL = ["/bin/sh", "-c"];
export const EPOCH = new Date(0).toISOString();

/** SOURCE_DATE_EPOCH (seconds) as the ISO time a config or history entry carries. */
export function epochTime(sourceDateEpoch: number): string {
  return new Date(sourceDateEpoch * 1000).toISOString();
}

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

/**
 * The env of a config, indexed: built once per config object and kept up to date by setEnv, so that
 * a stage of 10,000 ENV lines expands each word in constant time instead of re-reading the whole env
 * (which made long Dockerfiles quadratic). Valid while the Env array is the one it was built from.
 */
interface EnvIndex {
  env: string[];
  length: number;
  values: Map<string, string>;
  /** First position of each key: setEnv replaces it there (Docker, BuildKit and buildah keep it). */
  position: Map<string, number>;
  /** An image may list a key twice; setEnv then falls back to rebuilding the index. */
  duplicates: boolean;
}

const envIndexes = new WeakMap<ImageConfig, EnvIndex>();

function envIndex(config: ImageConfig): EnvIndex {
  const env = config.config.Env ?? [];
  const known = envIndexes.get(config);
  if (known && known.env === env && known.length === env.length) return known;
  const index: EnvIndex = {
    env,
    length: env.length,
    values: new Map(),
    position: new Map(),
    duplicates: false,
  };
  env.forEach((kv, i) => {
    const eq = kv.indexOf("=");
    if (eq <= 0) return;
    const key = kv.slice(0, eq);
    if (index.position.has(key)) index.duplicates = true;
    else index.position.set(key, i);
    index.values.set(key, kv.slice(eq + 1));
  });
  envIndexes.set(config, index);
  return index;
}

/** Env of the image as a map, in order (the last of a repeated key wins). Read-only: copy to change. */
export function envMap(config: ImageConfig): ReadonlyMap<string, string> {
  return envIndex(config).values;
}

/** Sets one variable; an existing one is replaced in place (Docker, BuildKit and buildah keep its position). */
export function setEnv(config: ImageConfig, key: string, value: string): void {
  const env = (config.config.Env ??= []);
  const index = envIndex(config);
  const at = index.position.get(key);
  if (at !== undefined) env[at] = `${key}=${value}`;
  else {
    index.position.set(key, env.length);
    env.push(`${key}=${value}`);
    index.length = env.length;
  }
  if (index.duplicates) envIndexes.delete(config);
  else index.values.set(key, value);
}

/** Variable lookup for word expansion: ENV wins over ARG, as in BuildKit. */
export function expansionEnv(s: StageState): (name: string) => string | undefined {
  const env = envMap(s.config);
  return (name) => env.get(name) ?? s.args.get(name);
}

/**
 * Moves a stage forward by a step's result (fresh or from cache). `created` is the history entry's
 * time: the record's own, unless SOURCE_DATE_EPOCH fixes it.
 */
export function applyRecord(
  s: StageState,
  record: CacheRecord,
  createdBy: string,
  created: string = record.created,
): void {
  if (record.layer && record.diffId && record.snapshot) {
    s.layers.push(record.layer);
    s.config.rootfs.diff_ids.push(record.diffId);
    s.identity = childChain(s.identity, record.diffId);
    s.snapshot = record.snapshot;
  }
  s.lastCreated = created;
  // Pushed in place: a stage owns its config (cloneState copies it at stage boundaries).
  (s.config.history ??= []).push({
    created,
    created_by: createdBy,
    comment: "tsbuild",
    ...(record.layer ? {} : { empty_layer: true }),
  });
}
