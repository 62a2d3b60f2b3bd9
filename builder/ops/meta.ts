// Instructions that only change the image config: no snapshot, no cache record; their effect
// reaches later cache keys through the config (env, user, workdir, shell) those steps read.
import { posix } from "node:path";
import { DockerfileError } from "../../src/errors.js";
import type { HealthConfig } from "../../src/oci/types.js";
import type { Command } from "../dockerfile/types.js";
import type { ShellLex } from "../dockerfile/shell.js";
import { type StageState, expansionEnv, setEnv } from "../state.js";

export type MetaCommand = Exclude<Command, { kind: "RUN" | "COPY" | "ADD" }>;

export interface MetaContext {
  lex: ShellLex;
  buildArgs: Record<string, string>;
  /** Values of global ARGs (before the first FROM), which a stage's bare `ARG name` inherits. */
  globalArgs: Map<string, string>;
  sourceLines: string[];
}

type Expand = (word: string) => string;

/** Applies a config-only instruction to `s` (mutates it) and records it in the history. */
export function applyMeta(cmd: MetaCommand, s: StageState, ctx: MetaContext): void {
  const expand: Expand = (word) => {
    try {
      return ctx.lex.processWord(word, expansionEnv(s));
    } catch (err) {
      throw new DockerfileError(cmd.location, `${cmd.kind}: ${(err as Error).message}`, ctx.sourceLines, {
        cause: err,
      });
    }
  };
  if (!applyToConfig(cmd, s, expand, ctx)) return;
  (s.config.history ??= []).push({
    created: s.lastCreated,
    created_by: cmd.original,
    comment: "tsbuild",
    empty_layer: true,
  });
}

/** Changes the state; false for the instructions that leave no history entry (ARG, WORKDIR's config). */
function applyToConfig(cmd: MetaCommand, s: StageState, expand: Expand, ctx: MetaContext): boolean {
  const c = s.config.config;
  switch (cmd.kind) {
    case "ENV": {
      // Every pair expands against the env as it was before this instruction, as Docker does.
      const pairs = cmd.pairs.map((p) => [expand(p.key), expand(p.value)] as const);
      for (const [k, v] of pairs) setEnv(s.config, k, v);
      return true;
    }
    case "LABEL": {
      const pairs = cmd.pairs.map((p) => [expand(p.key), expand(p.value)] as const);
      // Changed in place, never copied: a stage owns its config (cloneState copies it at stage
      // boundaries), and a copy per instruction made 10,000 LABEL lines quadratic.
      const labels = (c.Labels ??= {});
      for (const [k, v] of pairs) labels[k] = v;
      return true;
    }
    case "ARG":
      for (const a of cmd.args) {
        const value =
          ctx.buildArgs[a.key] ?? (a.value !== undefined ? expand(a.value) : ctx.globalArgs.get(a.key));
        if (value !== undefined) s.args.set(a.key, value);
      }
      return false;
    case "WORKDIR":
      c.WorkingDir = posix.resolve(c.WorkingDir || "/", expand(cmd.path));
      // The mkdir step that follows (a layer op) writes the history entry.
      return false;
    case "USER":
      c.User = expand(cmd.user);
      return true;
    case "EXPOSE":
      c.ExposedPorts ??= {};
      for (const word of cmd.ports) {
        for (const port of expand(word).split(/\s+/).filter(Boolean)) {
          c.ExposedPorts[port.includes("/") ? port.toLowerCase() : `${port}/tcp`] = {};
        }
      }
      return true;
    case "VOLUME":
      applyVolume(cmd, s, expand, ctx);
      return true;
    default:
      applyProcessConfig(cmd, s, expand);
      return true;
  }
}

function applyVolume(
  cmd: Extract<MetaCommand, { kind: "VOLUME" }>,
  s: StageState,
  expand: Expand,
  ctx: MetaContext,
): void {
  const c = s.config.config;
  const volumes = (c.Volumes ??= {});
  for (const p of cmd.paths) {
    const v = expand(p);
    if (!v)
      throw new DockerfileError(cmd.location, "VOLUME specified can not be an empty string", ctx.sourceLines);
    volumes[v] = {};
  }
}

/** The instructions that say how the image's process runs (and what children inherit). */
function applyProcessConfig(
  cmd: Exclude<MetaCommand, { kind: "ENV" | "LABEL" | "ARG" | "WORKDIR" | "USER" | "EXPOSE" | "VOLUME" }>,
  s: StageState,
  expand: Expand,
): void {
  const c = s.config.config;
  switch (cmd.kind) {
    case "STOPSIGNAL":
      c.StopSignal = expand(cmd.signal);
      break;
    case "CMD":
      c.Cmd = cmd.shellForm ? [...s.shell, cmd.args.join(" ")] : [...cmd.args];
      s.cmdSet = true;
      break;
    case "ENTRYPOINT":
      c.Entrypoint = cmd.shellForm ? [...s.shell, cmd.args.join(" ")] : [...cmd.args];
      // An ENTRYPOINT replaces the base image's CMD unless this stage set one (Docker's rule).
      if (!s.cmdSet) c.Cmd = null;
      break;
    case "SHELL":
      s.shell = [...cmd.args];
      c.Shell = [...cmd.args];
      break;
    case "HEALTHCHECK":
      c.Healthcheck = healthConfig(cmd);
      break;
    case "ONBUILD":
      (c.OnBuild ??= []).push(cmd.expression);
      break;
    case "MAINTAINER":
      s.config.author = cmd.name;
      break;
  }
}

function healthConfig(cmd: Extract<Command, { kind: "HEALTHCHECK" }>): HealthConfig {
  if (cmd.test === null) return { Test: ["NONE"] };
  const h: HealthConfig = {
    Test: cmd.shellForm ? ["CMD-SHELL", cmd.test.join(" ")] : ["CMD", ...cmd.test],
  };
  if (cmd.interval !== undefined) h.Interval = cmd.interval;
  if (cmd.timeout !== undefined) h.Timeout = cmd.timeout;
  if (cmd.startPeriod !== undefined) h.StartPeriod = cmd.startPeriod;
  if (cmd.startInterval !== undefined) h.StartInterval = cmd.startInterval;
  if (cmd.retries !== undefined) h.Retries = cmd.retries;
  return h;
}
