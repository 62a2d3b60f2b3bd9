// FROM: the state a stage starts from — empty (scratch), another stage's result, or a local image.
import { TsbuildError } from "../../src/errors.js";
import { readImage } from "../../src/image/read.js";
import { chainIds } from "../../src/oci/digest.js";
import { normalizeImageName } from "../../src/oci/reference.js";
import { unpackLayers } from "../../snapshotter/unpack.js";
import { DEFAULT_PATH, DEFAULT_SHELL, EPOCH, type StageState, cloneState, emptyImageConfig, envMap, setEnv } from "../state.js";
import type { OpContext } from "./context.js";

export function scratchState(): StageState {
  const config = emptyImageConfig();
  // BuildKit gives every image a PATH; RUN steps and the final config both see it.
  setEnv(config, "PATH", DEFAULT_PATH);
  return {
    config,
    layers: [],
    identity: "scratch",
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

/** A stage from an image in the local store; its layers are unpacked into snapshots once, then shared. */
export async function stateFromLocalImage(name: string, ctx: OpContext): Promise<StageState | undefined> {
  let normalized: string;
  try {
    normalized = normalizeImageName(name);
  } catch {
    return undefined;
  }
  const rec = await ctx.store.getImage(normalized);
  if (!rec) return undefined;
  const img = await readImage(ctx.store, rec.target.digest);
  const diffIds = img.config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== img.manifest.layers.length) {
    throw new TsbuildError(
      `image ${normalized}: manifest has ${img.manifest.layers.length} layers but the config lists ${diffIds.length} diff ids`,
    );
  }
  const top = diffIds.length ? await unpackLayers(ctx.snapshotter, ctx.store, img.manifest.layers, diffIds) : undefined;
  const config = structuredClone(img.config);
  config.config ??= {};
  if (!envMap(config).has("PATH")) setEnv(config, "PATH", DEFAULT_PATH);
  config.history ??= [];
  return {
    config,
    layers: [...img.manifest.layers],
    snapshot: top,
    identity: chainIds(diffIds).at(-1) ?? "scratch",
    args: new Map(),
    shell: config.config.Shell ? [...config.config.Shell] : [...DEFAULT_SHELL],
    cmdSet: false,
    lastCreated: config.created ?? EPOCH,
  };
}
