// RUN --mount=type=ssh: the command reaches an ssh-agent that `--ssh` named, through a socket of its
// own. As with BuildKit, the agent's socket itself never enters the sandbox: each RUN gets a proxy
// socket with the mount's mode, uid and gid (default 0600, root), and the key of the step holds
// only the mount's id and options, so a rebuild with another agent still hits.
import { chmodSync, chownSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../../../src/errors.js";

/** `--ssh` sources: mount id → the host path of an ssh-agent socket. */
export type SshSources = Record<string, string>;

/**
 * `--ssh default`, `--ssh ID` (both: $SSH_AUTH_SOCK) or `--ssh ID=SOCKET`. BuildKit also takes key
 * files, for which it runs an agent of its own; tsbuild asks for a running agent's socket instead.
 */
export function parseSshFlag(spec: string, env: NodeJS.ProcessEnv): [string, string] {
  const eq = spec.indexOf("=");
  const id = (eq < 0 ? spec : spec.slice(0, eq)).trim();
  if (!id) throw new UsageError(`--ssh ${spec}: expected default, ID or ID=SOCKET`);
  let path = eq < 0 ? "" : spec.slice(eq + 1).trim();
  if (!path) {
    path = env.SSH_AUTH_SOCK ?? "";
    if (!path)
      throw new UsageError(`--ssh ${spec}: SSH_AUTH_SOCK is not set: start an ssh-agent or give ID=SOCKET`);
  }
  if (path.includes(",")) {
    throw new UsageError(
      `--ssh ${spec}: one agent socket per id (key files are not supported: add them to an ssh-agent)`,
    );
  }
  let isSocket = false;
  try {
    isSocket = statSync(path).isSocket();
  } catch (err) {
    throw new UsageError(`--ssh ${spec}: ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  if (!isSocket) {
    throw new UsageError(
      `--ssh ${spec}: ${path} is not a socket (key files are not supported: add the key to an ssh-agent and pass its socket)`,
    );
  }
  return [id, path];
}

export interface SshProxyOptions {
  mode?: number;
  uid?: number;
  gid?: number;
}

/** Runs fn with the path of a fresh socket that forwards every connection to `agent`, then closes it. */
export async function withSshProxy<T>(
  agent: string,
  opts: SshProxyOptions,
  fn: (socketPath: string) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-ssh-"));
  const path = join(dir, "agent.sock");
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection(agent);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on("close", () => open.delete(s));
      // A side that fails or ends takes the other down: the command sees the agent go away.
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, resolve);
    });
    chownSync(path, opts.uid ?? 0, opts.gid ?? 0);
    chmodSync(path, opts.mode ?? 0o600);
    return await fn(path);
  } finally {
    for (const s of open) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  }
}
