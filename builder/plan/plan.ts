// The plan phase of a build, after BuildKit's dockerfile2llb toDispatchState: read and parse the
// Dockerfile, resolve the build args and the global ARGs, pick the target, resolve what each stage
// starts from (once), and find the stages the target needs. Nothing runs and nothing is stored: a plan
// is a pure function of the Dockerfile and the options, which `tsbuild check` uses alone.
import { existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { DockerfileError, UsageError } from "../../src/errors.js";
import { toStageSet } from "../dockerfile/commands.js";
import { parseDockerfile } from "../dockerfile/parser.js";
import { ShellLex } from "../dockerfile/shell.js";
import {
  type StageBase,
  resolveStage,
  stageBase,
  stageDependencies,
  stageIndex,
} from "../dockerfile/stages.js";
import { foreignSyntaxWarning } from "../dockerfile/directives.js";
import type { ParseResult, Stage, StageSet, Warning } from "../dockerfile/types.js";
import { type NamedContexts, parseBuildContexts } from "./build-contexts.js";
import { PLATFORM_ARGS } from "./platform-args.js";

export type { StageBase } from "../dockerfile/stages.js";

export interface PlanInput {
  contextDir: string;
  /** Path of the Dockerfile; default CONTEXT/Dockerfile, else CONTEXT/Containerfile (as buildah). */
  dockerfile?: string;
  /** The Dockerfile itself (`-f -`: read from stdin), instead of reading `dockerfile`. */
  dockerfileText?: string;
  buildArgs: Record<string, string>;
  target?: string;
  /** Stage names (or indexes) whose steps skip the cache: `--no-cache-filter`. */
  noCacheFilter?: string[];
  /** `--build-context NAME=DIR|docker-image://REF`. */
  buildContexts?: Record<string, string>;
}

export interface StagePlan {
  stage: Stage;
  /** What FROM names, decided once here. */
  base: StageBase;
  /** The stages it reads: its base stage, COPY --from, RUN --mount from= (literal names only). */
  deps: Set<number>;
}

export interface BuildPlan {
  contextDir: string;
  dockerfilePath: string;
  parsed: ParseResult;
  /** The parser's warnings and the plan's own (a `# syntax=` naming another frontend). */
  warnings: Warning[];
  stageSet: StageSet;
  /** By stage index. */
  stages: StagePlan[];
  /** --build-arg values over the platform ARGs. */
  buildArgs: Record<string, string>;
  /** Named contexts: directories, and names that stand for images. */
  contexts: NamedContexts;
  /** Values of the ARGs before the first FROM. */
  globalArgs: Map<string, string>;
  lex: ShellLex;
  target: number;
  /** The target and every stage it needs, transitively. */
  needed: Set<number>;
  noCacheStages: Set<number>;
}

const LAYER_KINDS = new Set(["RUN", "COPY", "ADD", "WORKDIR"]);

/** Whether an instruction makes a layer step (the rest only change the config). */
export function isLayerStep(kind: string): boolean {
  return LAYER_KINDS.has(kind);
}

export function planBuild(input: PlanInput): BuildPlan {
  const contextDir = resolve(input.contextDir);
  if (!existsSync(contextDir)) throw new UsageError(`build context ${contextDir}: no such directory`);
  const dockerfilePath = dockerfilePathOf(contextDir, input);
  const text = input.dockerfileText ?? readDockerfile(dockerfilePath);
  const parsed = parseDockerfile(text, basename(dockerfilePath));
  const syntax = foreignSyntaxWarning(parsed.directives.syntax);
  const buildArgs = { ...PLATFORM_ARGS, ...input.buildArgs };
  const stageSet = toStageSet(parsed, { buildArgs });
  const lex = new ShellLex(parsed.directives.escape);
  const deps = stageDependencies(stageSet);
  const contexts = parseBuildContexts(input.buildContexts ?? {});
  const stages = stageSet.stages.map((stage) => ({
    stage,
    base: contextBase(stage, stageBase(stageSet, stage.index), contexts, parsed.lines),
    deps: deps.get(stage.index) ?? new Set<number>(),
  }));
  const target = resolveStage(stageSet, input.target);
  return {
    contextDir,
    dockerfilePath,
    parsed,
    warnings: [...parsed.warnings, ...(syntax ? [{ code: "UnusedSyntaxDirective", message: syntax }] : [])],
    stageSet,
    stages,
    buildArgs,
    contexts,
    globalArgs: resolveGlobalArgs(stageSet.metaArgs, buildArgs, lex, parsed.lines),
    lex,
    target,
    needed: neededStages(target, stages),
    noCacheStages: new Set(
      (input.noCacheFilter ?? []).map((ref) => {
        const i = stageIndex(stageSet, ref);
        if (i === undefined) throw new UsageError(`--no-cache-filter ${ref}: no stage of that name`);
        return i;
      }),
    ),
  };
}

/**
 * `FROM NAME` where NAME is a named context: its image for docker-image://, an error for a directory
 * (BuildKit would use the directory as the rootfs; tsbuild does not, and must not pull an image
 * called NAME instead).
 */
function contextBase(stage: Stage, base: StageBase, contexts: NamedContexts, lines: string[]): StageBase {
  if (base.kind !== "image") return base;
  const image = contexts.images.get(base.ref);
  if (image !== undefined) return { kind: "image", ref: image };
  if (contexts.dirs.has(base.ref))
    throw new DockerfileError(
      stage.location,
      `FROM ${base.ref}: that build context is a directory, which cannot be a base here: COPY --from=${base.ref} its files instead`,
      lines,
    );
  return base;
}

/**
 * Where the Dockerfile is: `-f` (relative to the working directory, as docker's), else the context's
 * Dockerfile, else its Containerfile (buildah's and podman's name). With `-f -` the text comes from
 * stdin and the path only names it in messages.
 */
function dockerfilePathOf(contextDir: string, input: PlanInput): string {
  if (input.dockerfile !== undefined && input.dockerfile !== "-") return resolve(input.dockerfile);
  const dockerfile = join(contextDir, "Dockerfile");
  if (input.dockerfileText !== undefined || existsSync(dockerfile)) return dockerfile;
  const containerfile = join(contextDir, "Containerfile");
  return existsSync(containerfile) ? containerfile : dockerfile;
}

function readDockerfile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(`Dockerfile ${path}: cannot read it (does it exist?)`, { cause: err });
  }
}

/** The stages `target` needs: itself plus everything it reads, transitively. */
function neededStages(target: number, stages: StagePlan[]): Set<number> {
  const need = new Set<number>();
  const visit = (i: number) => {
    if (need.has(i)) return;
    need.add(i);
    for (const d of stages[i]?.deps ?? []) visit(d);
  };
  visit(target);
  return need;
}

/** Layer steps and RUN steps in the stages a plan needs (as written: ONBUILD triggers come on top). */
export function countSteps(plan: BuildPlan): { layerSteps: number; runSteps: number } {
  let layerSteps = 0;
  let runSteps = 0;
  for (const i of plan.needed) {
    for (const c of plan.stages[i]?.stage.commands ?? []) {
      if (isLayerStep(c.kind)) layerSteps++;
      if (c.kind === "RUN") runSteps++;
    }
  }
  return { layerSteps, runSteps };
}

/** Global ARG values: a --build-arg wins over the default; defaults may use earlier global ARGs. */
function resolveGlobalArgs(
  metaArgs: StageSet["metaArgs"],
  buildArgs: Record<string, string>,
  lex: ShellLex,
  lines: string[],
): Map<string, string> {
  const out = new Map<string, string>();
  for (const cmd of metaArgs) {
    for (const a of cmd.args) {
      let v = buildArgs[a.key];
      if (v === undefined && a.value !== undefined) {
        try {
          v = lex.processWord(a.value, (n) => out.get(n));
        } catch (err) {
          throw new DockerfileError(cmd.location, `ARG: ${(err as Error).message}`, lines, { cause: err });
        }
      }
      if (v !== undefined) out.set(a.key, v);
    }
  }
  return out;
}
