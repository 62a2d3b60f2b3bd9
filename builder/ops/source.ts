// FROM: the state a stage starts from — empty (scratch), another stage's result, or a local image.
import { BuildStepError, TsbuildError, describeError, messageOf, systemFailure } from "../../src/errors.js";
import type { Descriptor, Digest } from "../../src/oci/types.js";
import { readImage } from "../../src/image/read.js";
import { normalizeImageName } from "../../src/oci/reference.js";
import type { ProgressSink } from "../../src/progress/events.js";
import type { ContentStore } from "../../src/store/types.js";
import { SCRATCH, topChain } from "../../snapshotter/chain.js";
import type { Snapshotter } from "../../snapshotter/types.js";
import { unpackLayers } from "../../snapshotter/unpack.js";
import {
  DEFAULT_PATH,
  DEFAULT_SHELL,
  EPOCH,
  type StageState,
  cloneState,
  emptyImageConfig,
  envMap,
  setEnv,
} from "../state.js";

/**
 * The image was found but could not be made a rootfs (a full disk, a corrupt layer): the build failed
 * (exit 1), unlike an image that is not there (a Dockerfile error, exit 2).
 */
export class ImageUnpackError extends BuildStepError {}

async function unpack(name: string, ctx: ImageSourceDeps, layers: Descriptor[], diffIds: Digest[]) {
  try {
    return await unpackLayers(ctx.snapshotter, ctx.store, layers, diffIds);
  } catch (err) {
    const why = systemFailure(err) ? `unpacking: ${describeError(err)}` : messageOf(err);
    throw new ImageUnpackError(`image ${name}: ${why}`, undefined, { cause: err });
  }
}

/** `missing` (default): pull only images the store lacks; `always`: `--pull`; `never`: offline. */
export type PullPolicy = "missing" | "always" | "never";

export interface PullSettings {
  policy: PullPolicy;
  insecureRegistries: string[];
}

/** What resolving a base image needs: the stores, and when and how it may pull. */
export interface ImageSourceDeps {
  store: ContentStore;
  snapshotter: Snapshotter;
  progress: ProgressSink;
  signal: AbortSignal;
  pull: PullSettings;
}

export function scratchState(): StageState {
  const config = emptyImageConfig();
  // BuildKit gives every image a PATH; RUN steps and the final config both see it.
  setEnv(config, "PATH", DEFAULT_PATH);
  return {
    config,
    layers: [],
    identity: SCRATCH,
    args: new Map(),
    shell: [...DEFAULT_SHELL],
    cmdSet: false,
    lastCreated: EPOCH,
  };
}

/** A new stage on top of another stage's final state: the image carries over, build-only state does not. */
export function stateFromStage(base: StageState): StageState {
  const s = cloneState(base);
  s.args = new Map();
  s.cmdSet = false;
  return s;
}

/**
 * A stage from an image: from the local store, pulled from its registry first when the store lacks it
 * (or always, with --pull). Undefined when the name is not an image reference or no image was found.
 * Its layers are unpacked into snapshots once, then shared.
 */
export async function stateFromImage(name: string, ctx: ImageSourceDeps): Promise<StageState | undefined> {
  let normalized: string;
  try {
    normalized = normalizeImageName(name);
  } catch {
    return undefined;
  }
  const policy = ctx.pull.policy;
  let rec = policy === "always" ? undefined : await ctx.store.getImage(normalized);
  if (!rec && policy !== "never") {
    ctx.progress.emit({ type: "info", message: `pulling ${normalized}` });
    // Loaded on demand: builds from local bases never pay for the registry client.
    const { pullImage } = await import("../../src/registry/pull.js");
    try {
      rec = await pullImage(ctx.store, normalized, {
        insecureRegistries: ctx.pull.insecureRegistries,
        progress: ctx.progress,
        signal: ctx.signal,
      });
    } catch (err) {
      rec = policy === "always" ? await ctx.store.getImage(normalized) : undefined;
      if (!rec) {
        throw new TsbuildError(
          `image ${normalized}: not in the local store, and pulling it failed: ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
  }
  if (!rec) return undefined;
  const img = await readImage(ctx.store, rec.target.digest);
  const diffIds = img.config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== img.manifest.layers.length) {
    throw new TsbuildError(
      `image ${normalized}: manifest has ${img.manifest.layers.length} layers but the config lists ${diffIds.length} diff ids`,
    );
  }
  const top = diffIds.length ? await unpack(normalized, ctx, img.manifest.layers, diffIds) : undefined;
  const config = structuredClone(img.config);
  config.config ??= {};
  if (!envMap(config).has("PATH")) setEnv(config, "PATH", DEFAULT_PATH);
  config.history ??= [];
  return {
    config,
    layers: [...img.manifest.layers],
    snapshot: top,
    identity: topChain(diffIds),
    args: new Map(),
    shell: config.config.Shell ? [...config.config.Shell] : [...DEFAULT_SHELL],
    cmdSet: false,
    lastCreated: config.created ?? EPOCH,
  };
}
