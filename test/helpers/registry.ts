// Starts a real registry (CNCF distribution, Debian's docker-registry) on 127.0.0.1 with a free port and
// a temp storage dir: plain, behind htpasswd, with token auth against an issuer the test runs, or over
// TLS on 127.0.0.2 (a loopback address that tsbuild, unlike 127.0.0.1, reaches over HTTPS).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get as httpsGet } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const REGISTRY_BIN = "/usr/bin/docker-registry";

export interface TokenAuthConfig {
  realm: string;
  service: string;
  issuer: string;
  /** PEM file with the certificate whose key signs the tokens. */
  rootCertBundle: string;
}

export interface RegistryOptions {
  /** user → password; the helper writes a bcrypt htpasswd file with `htpasswd -B`. */
  htpasswd?: Record<string, string>;
  token?: TokenAuthConfig;
  /** PEM files: serve HTTPS on 127.0.0.2 with this certificate and key. */
  tls?: { certificate: string; key: string; ca: string };
}

export interface RunningRegistry {
  /** "127.0.0.1:PORT" (127.0.0.2 with TLS) */
  host: string;
  port: number;
  dir: string;
  /** Digests of every blob in the registry's storage. */
  storedBlobs(): string[];
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function configYaml(dir: string, addr: string, opts: RegistryOptions): string {
  const lines = [
    "version: 0.1",
    "log:",
    "  level: warn",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(dir, "data")}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: ${addr}`,
  ];
  if (opts.tls) lines.push("  tls:", `    certificate: ${opts.tls.certificate}`, `    key: ${opts.tls.key}`);
  if (opts.htpasswd) {
    const file = join(dir, "htpasswd");
    for (const [user, pass] of Object.entries(opts.htpasswd)) {
      const args = existsSync(file) ? ["-bB", file, user, pass] : ["-cbB", file, user, pass];
      const r = spawnSync("htpasswd", args, { encoding: "utf8" });
      if (r.status !== 0)
        throw new Error(`htpasswd: ${r.stderr || r.error?.message} (apt-get install apache2-utils)`);
    }
    lines.push("auth:", "  htpasswd:", "    realm: tsbuild-test", `    path: ${file}`);
  }
  if (opts.token) {
    lines.push(
      "auth:",
      "  token:",
      `    realm: ${opts.token.realm}`,
      `    service: ${opts.token.service}`,
      `    issuer: ${opts.token.issuer}`,
      `    rootcertbundle: ${opts.token.rootCertBundle}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Starts the registry and waits until /v2/ answers. */
export async function startRegistry(opts: RegistryOptions = {}): Promise<RunningRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-registry-"));
  const port = await freePort();
  const host = `${opts.tls ? "127.0.0.2" : "127.0.0.1"}:${port}`;
  const config = join(dir, "config.yml");
  writeFileSync(config, configYaml(dir, host, opts));
  const child: ChildProcess = spawn(REGISTRY_BIN, ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited ${child.exitCode}: ${stderr}`);
    try {
      await probe(host, opts.tls?.ca);
      break;
    } catch {
      if (i > 200) throw new Error(`docker-registry did not start on ${host}: ${stderr}`);
      await sleep(25);
    }
  }
  return {
    host,
    port,
    dir,
    storedBlobs: () => storedBlobs(join(dir, "data")),
    stop: () => stopAndRemove(child, dir),
  };
}

/** Resolves once `GET /v2/` gets any answer; over HTTPS when `ca` (PEM file) is given. */
async function probe(host: string, ca: string | undefined): Promise<void> {
  if (!ca) {
    const res = await fetch(`http://${host}/v2/`);
    await res.body?.cancel();
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const req = httpsGet(`https://${host}/v2/`, { ca: readFileSync(ca) }, (res) => {
      res.resume();
      resolve();
    });
    req.on("error", reject);
  });
}

function storedBlobs(root: string): string[] {
  const base = join(root, "docker", "registry", "v2", "blobs", "sha256");
  if (!existsSync(base)) return [];
  const out: string[] = [];
  for (const prefix of readdirSync(base)) {
    for (const hex of readdirSync(join(base, prefix))) {
      if (existsSync(join(base, prefix, hex, "data"))) out.push(`sha256:${hex}`);
    }
  }
  return out.sort();
}

/** GETs a blob from the registry and returns the sha256 of what came back. */
export async function fetchedBlobDigest(
  host: string,
  repository: string,
  digest: string,
  auth?: string,
): Promise<string> {
  const res = await fetch(`http://${host}/v2/${repository}/blobs/${digest}`, {
    headers: auth ? { authorization: auth } : {},
  });
  if (!res.ok) throw new Error(`GET blob ${digest}: ${res.status}`);
  return `sha256:${createHash("sha256")
    .update(Buffer.from(await res.arrayBuffer()))
    .digest("hex")}`;
}

/** Stops a helper process started by a test (waiting for it to exit), then removes its work dir. */
export async function stopAndRemove(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
}
