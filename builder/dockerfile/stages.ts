// Relations between stages: which stage a name or index means, what each stage starts from, which
// stages a stage needs, and the rule that a stage may only use stages before it. The one place that
// decides "is this word a stage?": the build plan, the solver and the ops all ask here.
import { UsageError } from "../../src/errors.js";
import type { Command, StageSet } from "./types.js";

/** What a stage's FROM names: nothing, an earlier stage, or an image. */
export type StageBase =
  { kind: "scratch" } | { kind: "stage"; index: number } | { kind: "image"; ref: string };

/** The stage a reference means ("build" or "0"), or undefined when it names an image or context. */
export function stageIndex(set: StageSet, ref: string): number | undefined {
  const lower = ref.toLowerCase();
  const named = set.stages.findIndex((s) => s.name === lower);
  if (named >= 0) return named;
  if (/^\d+$/.test(ref) && Number(ref) < set.stages.length) return Number(ref);
  return undefined;
}

/** `--from` references of a command: COPY --from and RUN --mount from=. Variables are resolved later. */
function fromReferences(cmd: Command): string[] {
  const refs: string[] = [];
  if ((cmd.kind === "COPY" || cmd.kind === "ADD") && cmd.from) refs.push(cmd.from);
  if (cmd.kind === "RUN") for (const m of cmd.mounts) if (m.from) refs.push(m.from);
  return refs.filter((ref) => !ref.includes("$"));
}

/**
 * What stage `index` starts from. `scratch` is always the empty rootfs; otherwise only an earlier stage
 * counts (`FROM ubuntu AS ubuntu` is the image).
 */
export function stageBase(set: StageSet, index: number): StageBase {
  const baseName = set.stages[index]!.baseName;
  if (baseName.toLowerCase() === "scratch") return { kind: "scratch" };
  const found = stageIndex(set, baseName);
  return found !== undefined && found < index
    ? { kind: "stage", index: found }
    : { kind: "image", ref: baseName };
}

export function validateStageReferences(set: StageSet, fail: (cmd: Command, detail: string) => never): void {
  for (const stage of set.stages) {
    for (const cmd of stage.commands) {
      for (const ref of fromReferences(cmd)) {
        const target = stageIndex(set, ref);
        if (target === undefined || target < stage.index) continue;
        const what = target === stage.index ? "the stage itself" : "a later stage";
        fail(cmd, `circular dependency: --from=${ref} refers to ${what}; only earlier stages can be used`);
      }
    }
  }
}

/** Stage index → the stages it reads from (its base stage, COPY --from, RUN --mount from=). */
export function stageDependencies(set: StageSet): Map<number, Set<number>> {
  const deps = new Map<number, Set<number>>();
  for (const stage of set.stages) {
    const mine = new Set<number>();
    const base = stageBase(set, stage.index);
    if (base.kind === "stage") mine.add(base.index);
    for (const cmd of stage.commands) {
      for (const ref of fromReferences(cmd)) {
        const target = stageIndex(set, ref);
        if (target !== undefined && target < stage.index) mine.add(target);
      }
    }
    deps.set(stage.index, mine);
  }
  return deps;
}

/** The stage to build: by name or index, the last one by default. */
export function resolveStage(set: StageSet, target?: string): number {
  if (target === undefined || target === "") return set.stages.length - 1;
  const index = stageIndex(set, target);
  if (index === undefined) {
    const names = set.stages.flatMap((s) => (s.name ? [s.name] : []));
    const known = names.length > 0 ? ` (stages: ${names.join(", ")})` : "";
    throw new UsageError(`target stage "${target}" could not be found${known}`);
  }
  return index;
}
