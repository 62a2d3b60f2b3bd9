// RUN --mount: turns the parsed mounts into (a) the inputs of the step's cache key and (b) host-side
// resources (cache dirs, stage views, secret files) set up around the sandbox run and released after.
// Secret values never reach the key, the env list the key sees, the layer or the history.
import { posix } from "node:path";
import type { SandboxSpec } from "../../native/sandbox.js";
import type { Command, RunMount } from "../dockerfile/types.js";
import type { OpContext, SourceDir } from "./op.js";
import { withCacheDir } from "./mounts/cache-dir.js";
import { contextPath, rootfsPath, withStageRoot, withThrowawayWrites } from "./mounts/bind.js";
import { readSecret, secretFile } from "./mounts/secrets.js";
import { withSshProxy } from "./mounts/ssh.js";

export type SandboxMount = NonNullable<SandboxSpec["mounts"]>[number];

/** What a mount contributes while the command runs. */
interface Provided {
  mount?: SandboxMount;
  env?: string;
}

interface Resource {
  key: Record<string, unknown>;
  provide<T>(fn: (p: Provided) => Promise<T>): Promise<T>;
}

export interface MountPlan {
  /** For the cache key: types, targets, ids and the content identity of bind sources. */
  keyInputs: Record<string, unknown>[];
  /** Sets every mount up, runs fn with the sandbox mounts and extra env, then releases them all. */
  run<T>(fn: (mounts: SandboxMount[], env: string[]) => Promise<T>): Promise<T>;
}

type Fail = (message: string, cause?: unknown) => Error;

/** Expands each option value with the stage's ARG/ENV; relative targets are joined to WORKDIR. */
export function expandMount(m: RunMount, expand: (w: string) => string, workdir: string): RunMount {
  const out: RunMount = { ...m };
  for (const k of ["target", "source", "from", "id", "env"] as const) {
    const v = m[k];
    if (v !== undefined) out[k] = expand(v);
  }
  if (out.target !== undefined) out.target = posix.resolve(workdir, out.target);
  return out;
}

export async function planRunMounts(specs: RunMount[], ctx: OpContext, fail: Fail): Promise<MountPlan> {
  const resources: Resource[] = [];
  let sshIndex = 0;
  for (const m of specs) {
    // BuildKit's default target of the Nth ssh mount of a RUN.
    const spec =
      m.type === "ssh" && m.target === undefined
        ? { ...m, target: `/run/buildkit/ssh_agent.${sshIndex}` }
        : m;
    if (m.type === "ssh") sshIndex++;
    resources.push(await resource(spec, ctx, fail));
  }
  return {
    keyInputs: resources.map((r) => r.key),
    run: (fn) => provideAll(resources, [], [], fn),
  };
}

function provideAll<T>(
  rest: Resource[],
  mounts: SandboxMount[],
  env: string[],
  fn: (mounts: SandboxMount[], env: string[]) => Promise<T>,
): Promise<T> {
  const [first, ...others] = rest;
  if (!first) return fn(mounts, env);
  return first.provide((p) =>
    provideAll(others, p.mount ? [...mounts, p.mount] : mounts, p.env ? [...env, p.env] : env, fn),
  );
}

function resource(m: RunMount, ctx: OpContext, fail: Fail): Promise<Resource> | Resource {
  switch (m.type) {
    case "cache":
      return cacheResource(m, ctx, fail);
    case "tmpfs":
      return tmpfsResource(m);
    case "secret":
      return secretResource(m, ctx, fail);
    case "bind":
      return bindResource(m, ctx, fail);
    case "ssh":
      return sshResource(m, ctx, fail);
    default:
      throw fail(`--mount=type=${m.type} is not supported`);
  }
}

function cacheResource(m: RunMount, ctx: OpContext, fail: Fail): Resource {
  if (m.from !== undefined || m.source !== undefined)
    throw fail("--mount=type=cache: from= and source= are not supported yet");
  const spec = {
    id: m.id ?? m.target!,
    sharing: m.sharing ?? "shared",
    mode: m.mode,
    uid: m.uid,
    gid: m.gid,
  };
  const root = ctx.root;
  return {
    key: { type: "cache", target: m.target, ...spec, readonly: m.readonly ?? false },
    provide: (fn) =>
      withCacheDir(root, spec, (dir) =>
        fn({
          mount: {
            type: "bind",
            source: dir,
            target: m.target!,
            options: ["rbind", m.readonly ? "ro" : "rw"],
          },
        }),
      ),
  };
}

function tmpfsResource(m: RunMount): Resource {
  const options = ["nosuid", "nodev", ...(m.size ? [`size=${m.size}`] : [])];
  return {
    key: { type: "tmpfs", target: m.target, size: m.size },
    provide: (fn) => fn({ mount: { type: "tmpfs", source: "tmpfs", target: m.target!, options } }),
  };
}

function secretResource(m: RunMount, ctx: OpContext, fail: Fail): Resource {
  const id = m.id!;
  const given = ctx.secrets?.[id] !== undefined;
  if (!given && m.required) throw fail(`secret ${id}: required, but no --secret id=${id} was given`);
  return {
    // Only the id and where it goes: the value must not influence (or be recoverable from) the key.
    key: { type: "secret", id, target: m.target, env: m.env, mode: m.mode, uid: m.uid, gid: m.gid },
    provide: async (fn) => {
      const value = readSecret(ctx.secrets, id);
      if (value === undefined) {
        if (m.required) throw fail(`secret ${id}: required, but it has no value`);
        return fn({});
      }
      const env = m.env ? `${m.env}=${value.toString("utf8")}` : undefined;
      if (!m.target) return fn({ env });
      const file = secretFile(value, m.mode ?? 0o400, m.uid ?? 0, m.gid ?? 0);
      try {
        return await fn({
          env,
          mount: { type: "bind", source: file.path, target: m.target, options: ["bind", "ro"] },
        });
      } finally {
        file.remove();
      }
    },
  };
}

function sshResource(m: RunMount, ctx: OpContext, fail: Fail): Resource {
  const id = m.id ?? "default";
  const agent = ctx.ssh?.[id];
  if (agent === undefined && m.required) throw fail(`ssh ${id}: required, but no --ssh ${id} was given`);
  return {
    // Not the agent's socket: another agent (another machine, another CI run) is the same step.
    key: { type: "ssh", id, target: m.target, mode: m.mode, uid: m.uid, gid: m.gid },
    provide: (fn) => {
      // Like BuildKit: an optional mount with no agent is left out, and the command sees no SSH_AUTH_SOCK.
      if (agent === undefined) return fn({});
      return withSshProxy(agent, { mode: m.mode, uid: m.uid, gid: m.gid }, (socket) =>
        fn({
          env: `SSH_AUTH_SOCK=${m.target!}`,
          mount: { type: "bind", source: socket, target: m.target!, options: ["bind", "rw"] },
        }),
      );
    },
  };
}

async function bindResource(m: RunMount, ctx: OpContext, fail: Fail): Promise<Resource> {
  const sources = ctx.sources;
  const writable = m.readonly === false;
  const bind = (source: string): Provided => ({
    mount: { type: "bind", source, target: m.target!, options: ["rbind", writable ? "rw" : "ro"] },
  });
  const base = { type: "bind", target: m.target, source: m.source ?? "/", from: m.from, rw: writable };
  const guard = <T>(f: () => T): T => {
    try {
      return f();
    } catch (err) {
      throw fail(`--mount=type=bind: ${(err as Error).message}`, err);
    }
  };

  const d: SourceDir | undefined = m.from === undefined ? sources.context : sources.named(m.from);
  if (d) {
    const rootName = m.from === undefined ? "build context" : `build context ${m.from}`;
    const sourceId = await d.hasher
      .checksumSources([m.source ?? "."], { followSymlinks: true })
      .catch((err: Error) => {
        throw fail(`--mount=type=bind: ${err.message}`, err);
      });
    return {
      key: { ...base, sourceId },
      provide: (fn) => {
        const path = guard(() => contextPath(d.root, m.source, rootName));
        return writable ? withThrowawayWrites(path, (p) => fn(bind(p))) : fn(bind(path));
      },
    };
  }
  const from = m.from!;
  const state = await sources.state(from);
  if (!state)
    throw fail(`--mount=type=bind,from=${from}: no stage, build context or local image of that name`);
  return {
    key: { ...base, sourceId: state.identity },
    provide: (fn) =>
      withStageRoot(ctx.snapshotter, state.snapshot, writable, (root) =>
        fn(bind(guard(() => rootfsPath(root, m.source)))),
      ),
  };
}

/** The `from=` of every RUN --mount in `commands` (unexpanded), so the build can wait for those stages first. */
export function mountFromRefs(commands: Command[]): string[] {
  return commands.flatMap((c) =>
    c.kind === "RUN" ? c.mounts.flatMap((m) => (m.from !== undefined ? [m.from] : [])) : [],
  );
}
