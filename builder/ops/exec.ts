// RUN: a command in the sandbox over the stage's rootfs; its writes become the step's layer.
import { BuildStepError, DockerfileError } from "../../src/errors.js";
import type { Mount } from "../../snapshotter/types.js";
import { runSandbox, type SandboxSpec } from "../../native/sandbox.js";
import { stepCacheKey } from "../cache/keys.js";
import type { Command } from "../dockerfile/types.js";
import { DEFAULT_PATH, type StageState, envMap, expansionEnv } from "../state.js";
import type { OpContext } from "./context.js";
import { applyRecord, lookupCache, noteRunUsage, runLayerStep } from "./layer-step.js";
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
  const env = envMap(s.config);
  if (!env.has("PATH")) env.set("PATH", DEFAULT_PATH);
  const out = [...env].map(([k, v]) => `${k}=${v}`);
  for (const [k, v] of s.args) if (!env.has(k)) out.push(`${k}=${v}`);
  return out;
}

/** The sandbox's root from the snapshotter's mount spec for the active snapshot. */
export function sandboxRoot(mounts: Mount[]): SandboxSpec["root"] {
  const m = mounts[0];
  if (!m) throw new Error("snapshotter returned no mounts");
  if (m.type === "bind") return { lowerdirs: [], upperdir: m.source };
  const opt = (name: string) => m.options.find((o) => o.startsWith(`${name}=`))?.slice(name.length + 1);
  return {
    lowerdirs: (opt("lowerdir") ?? "").split(":").filter(Boolean),
    upperdir: opt("upperdir"),
    workdir: opt("workdir"),
    // Skips the sync of the whole filesystem at unmount (10-300 ms a step here). Safe because the
    // layer blob is what the cache trusts and it is fsynced by the content store; the snapshot's
    // work/ dir (where volatile leaves its marker) is cleared at commit.
    options: opt("workdir") ? ["volatile"] : undefined,
  };
}

export async function execRun(
  cmd: RunCommand,
  s: StageState,
  ctx: OpContext,
  step: { id: string; sourceLines: string[] },
): Promise<{ cached: boolean; durationMs: number }> {
  const fail = (msg: string) => new DockerfileError(cmd.location, `RUN: ${msg}`, step.sourceLines);
  const argv = runArgv(cmd, s.shell);
  const env = runEnv(s);
  const cwd = s.config.config.WorkingDir || "/";
  const user = s.config.config.User || "0";
  const network = cmd.network === "none" ? "none" : "host";
  const expand = (w: string) => {
    try {
      return ctx.lex ? ctx.lex.processWord(w, expansionEnv(s)) : w;
    } catch (err) {
      throw fail((err as Error).message);
    }
  };
  const plan = await planRunMounts(
    cmd.mounts.map((m) => expandMount(m, expand, cwd)),
    ctx,
    fail,
  );
  const key = stepCacheKey({
    parent: s.identity,
    op: "RUN",
    // `mounts` only when there are some, so keys of mount-less steps stay what they were.
    inputs: {
      argv,
      env: [...env].sort(),
      cwd,
      user,
      network,
      ...(plan.keyInputs.length ? { mounts: plan.keyInputs } : {}),
    },
  });
  const hit = await lookupCache(ctx, key);
  if (hit) {
    applyRecord(s, hit, cmd.original);
    return { cached: true, durationMs: hit.durationMs };
  }
  const record = await runLayerStep(ctx, s, key, async (mounts) => {
    const result = await plan.run((extraMounts, extraEnv) =>
      (ctx.sandboxes ?? { run: runSandbox }).run(
        {
          root: sandboxRoot(mounts),
          mounts: extraMounts,
          // Secrets given with env= reach only the process, never `env` above (an input of the cache key).
          env: [...env, ...extraEnv],
          args: argv,
          cwd,
          user,
          hostname: "tsbuild",
          network,
          // An empty cgroup spec sets no limits; it gives the metrics file the cgroup's peak memory and CPU time.
          cgroup: {},
        },
        {
          signal: ctx.signal,
          onOutput: (stream, chunk) =>
            ctx.progress.emit({ type: "step-log", id: step.id, stream, data: chunk.toString() }),
        },
      ),
    );
    noteRunUsage(ctx, result);
    if (result.exitCode !== 0) {
      const how = result.signal ? `signal: ${result.signal}` : `exit code: ${result.exitCode}`;
      throw new BuildStepError(
        `${cmd.location.file}:${cmd.location.startLine}: ${cmd.original}: process ${JSON.stringify(argv.join(" "))} did not complete successfully: ${how}`,
        cmd.location,
      );
    }
  });
  ctx.cache.put(record);
  applyRecord(s, record, cmd.original);
  return { cached: false, durationMs: record.durationMs };
}
