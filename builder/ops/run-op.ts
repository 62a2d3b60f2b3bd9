// RUN: a command in the sandbox over the stage's rootfs; its writes become the step's layer.
import { BuildStepError, DockerfileError } from "../../src/errors.js";
import type { Mount } from "../../snapshotter/types.js";
import { parseOverlayMount } from "../../snapshotter/mount.js";
import type { SandboxResult, SandboxSpec } from "../../native/sandbox.js";
import type { Command } from "../dockerfile/types.js";
import { limitFailure, sandboxLimits } from "./run-limits.js";
import { runUsage } from "./run-usage.js";
import { DEFAULT_PATH, type StageState, envMap, expansionEnv } from "../state.js";
import type { LayerOp, OpContext } from "./op.js";
import { expandMount, planRunMounts } from "./run-mounts.js";

export type RunCommand = Extract<Command, { kind: "RUN" }>;

/** The argv a RUN executes: exec form as is; shell form (with heredoc bodies appended) through SHELL. */
export function runArgv(cmd: RunCommand, shell: string[]): string[] {
  if (!cmd.shellForm) return [...cmd.args];
  const line = cmd.args.join(" ");
  const only = cmd.heredocs.length === 1 ? cmd.heredocs[0] : undefined;
  // `RUN <<EOF` alone: the body is the script, as BuildKit runs it.
  if (only && /^<<-?(["']?)[^\s"']+\1$/.test(line.trim())) return [...shell, only.content];
  const bodies = cmd.heredocs.map((h) => `${h.content}${h.name}\n`).join("");
  return [...shell, cmd.heredocs.length ? `${line}\n${bodies}` : line];
}

/** Env a RUN sees: the image's (with a default PATH) plus the stage's ARGs, ENV winning. */
export function runEnv(s: StageState): string[] {
  const env = new Map(envMap(s.config));
  if (!env.has("PATH")) env.set("PATH", DEFAULT_PATH);
  const out = [...env].map(([k, v]) => `${k}=${v}`);
  for (const [k, v] of s.args) if (!env.has(k)) out.push(`${k}=${v}`);
  return out;
}

/** The proxy args a RUN's env does not already set. */
function proxyEnvFor(env: string[], proxyEnv: readonly string[] = []): readonly string[] {
  if (proxyEnv.length === 0) return proxyEnv;
  const set = new Set(env.map((kv) => kv.slice(0, kv.indexOf("="))));
  return proxyEnv.filter((kv) => !set.has(kv.slice(0, kv.indexOf("="))));
}

/** The sandbox's root: the dirs of the snapshotter's mounts for the active snapshot. */
export function sandboxRoot(mounts: Mount[]): SandboxSpec["root"] {
  const m = mounts[0];
  if (!m) throw new Error("snapshotter returned no mounts");
  if (m.type === "bind") return { lowerdirs: [], upperdir: m.source };
  const o = parseOverlayMount(m);
  return {
    lowerdirs: o.lowerdirs,
    upperdir: o.upperdir,
    workdir: o.workdir,
    // Skips the sync of the whole filesystem at unmount (10-300 ms a step here). Safe because the
    // layer blob is what the cache trusts and it is fsynced by the content store; once committed, the
    // snapshot is only ever a lowerdir, so its work dir (where volatile leaves its marker) is never reused.
    options: o.workdir ? ["volatile"] : undefined,
  };
}

/** The RUN op: its key inputs (argv, env, cwd, user, network, mounts) and its sandboxed command. */
export async function runOp(
  cmd: RunCommand,
  s: StageState,
  ctx: OpContext,
  stepId: string,
): Promise<LayerOp> {
  const fail = (msg: string, cause?: unknown) =>
    new DockerfileError(cmd.location, `RUN: ${msg}`, ctx.sourceLines, { cause });
  const argv = runArgv(cmd, s.shell);
  const env = runEnv(s);
  const cwd = s.config.config.WorkingDir || "/";
  const user = s.config.config.User || "0";
  const network = cmd.network === "none" ? "none" : "host";
  const expand = (w: string) => {
    try {
      return ctx.lex.processWord(w, expansionEnv(s));
    } catch (err) {
      throw fail((err as Error).message, err);
    }
  };
  const plan = await planRunMounts(
    cmd.mounts.map((m) => expandMount(m, expand, cwd)),
    ctx,
    fail,
  );
  const spec = { args: argv, env, cwd, user, network } as const;
  return {
    kind: "RUN",
    // `mounts` only when there are some, so keys of mount-less steps stay what they were.
    inputs: {
      argv,
      env: [...env].sort(),
      cwd,
      user,
      network,
      ...(plan.keyInputs.length ? { mounts: plan.keyInputs } : {}),
    },
    exec: async (mounts) => {
      const result = await plan.run((extraMounts, extraEnv) =>
        runInSandbox(ctx, stepId, {
          ...spec,
          root: sandboxRoot(mounts),
          mounts: extraMounts,
          // Secrets given with env= and the proxy args reach only the process, never `env` above (an
          // input of the cache key); a declared ARG or an ENV of the same name wins over a proxy arg.
          env: [...env, ...proxyEnvFor(env, ctx.proxyEnv), ...extraEnv],
        }),
      );
      const hit = limitFailure(result, ctx.runLimits);
      if (hit !== undefined) throw stepFailed(cmd, hit);
      if (result.exitCode !== 0) throw runFailed(cmd, argv, result);
      return { usage: runUsage(result) };
    },
  };
}

function runInSandbox(ctx: OpContext, stepId: string, spec: SandboxSpec): Promise<SandboxResult> {
  return ctx.sandboxes.run(
    // The cgroup also gives the metrics file the RUN's peak memory, CPU time and process count.
    { ...spec, hostname: "tsbuild", ...sandboxLimits(ctx.runLimits) },
    {
      signal: ctx.signal,
      onOutput: (stream, chunk) =>
        ctx.progress.emit({ type: "step-log", id: stepId, stream, data: chunk.toString() }),
    },
  );
}

function runFailed(cmd: RunCommand, argv: string[], result: SandboxResult): BuildStepError {
  const how = result.signal ? `signal: ${result.signal}` : `exit code: ${result.exitCode}`;
  return stepFailed(cmd, `process ${JSON.stringify(argv.join(" "))} did not complete successfully: ${how}`);
}

/** `Dockerfile:N: RUN …: why`. */
function stepFailed(cmd: RunCommand, why: string): BuildStepError {
  return new BuildStepError(
    `${cmd.location.file}:${cmd.location.startLine}: ${cmd.original}: ${why}`,
    cmd.location,
  );
}
