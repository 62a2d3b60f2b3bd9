// Where a build's files and stages come from: the build context and named contexts (directories, each
// with its checksum memo), base images (looked up, pulled and unpacked once per name per build), and
// the stages of the plan (by the solver).
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ContextHasher } from "../context/checksum.js";
import { PatternMatcher, readIgnoreFile } from "../context/dockerignore.js";
import { stageIndex } from "../dockerfile/stages.js";
import type { CopySources, SourceDir } from "../ops/op.js";
import { type ImageSourceDeps, stateFromImage } from "../ops/source.js";
import type { BuildPlan } from "../plan/plan.js";
import { type StageState, cloneState } from "../state.js";

/** A directory files are copied from, with its .dockerignore (the context only) and checksum memo. */
export function sourceDir(storeRoot: string, dir: string, ignoreFileOf?: string): SourceDir {
  const matcher = ignoreFileOf ? new PatternMatcher(readIgnoreFile(dir, ignoreFileOf)) : undefined;
  const memoDir = join(storeRoot, "cache", "checksums");
  mkdirSync(memoDir, { recursive: true });
  const memo = join(memoDir, `${createHash("sha256").update(dir).digest("hex")}.json`);
  return { root: dir, matcher, hasher: new ContextHasher(dir, matcher, memo) };
}

/**
 * One lookup (and at most one pull and unpack) per image name per build, however many stages use
 * it; each user gets its own copy of the state.
 */
export class BaseImages {
  private readonly images = new Map<string, Promise<StageState | undefined>>();

  constructor(private readonly deps: ImageSourceDeps) {}

  async state(ref: string): Promise<StageState | undefined> {
    let p = this.images.get(ref);
    if (!p) this.images.set(ref, (p = stateFromImage(ref, this.deps)));
    const st = await p;
    return st && cloneState(st);
  }
}

/** The sources the ops read: `stageResult` gives a stage's final state (the solver's). */
export function buildSources(
  plan: BuildPlan,
  storeRoot: string,
  images: BaseImages,
  stageResult: (index: number) => Promise<StageState>,
): CopySources {
  const named = new Map([...plan.contexts.dirs].map(([k, dir]) => [k, sourceDir(storeRoot, dir)]));
  return {
    context: sourceDir(storeRoot, plan.contextDir, plan.dockerfilePath),
    named: (ref) => named.get(ref),
    state: (ref) => {
      const i = stageIndex(plan.stageSet, ref);
      if (i !== undefined) return stageResult(i);
      // `--build-context NAME=docker-image://REF`: NAME stands for REF.
      return images.state(plan.contexts.images.get(ref) ?? ref);
    },
  };
}
