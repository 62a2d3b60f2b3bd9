import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { TsbuildError } from "../errors.js";
import { DOCKER_HUB } from "../oci/reference.js";
import { writeFileAtomic } from "../util/atomic.js";
import { hostOfServerUrl } from "./host-arg.js";

// Docker's config.json: `auths` (base64 user:pass per registry), `credHelpers` (a helper per registry)
// and `credsStore` (the helper for every other registry), as `docker login` writes them.

export interface Credentials {
  username: string;
  password: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [other: string]: unknown;
}

/** Docker keeps Hub credentials under its v1 URL. */
const DOCKER_HUB_KEY = "https://index.docker.io/v1/";

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(homedir(), ".docker"), "config.json");
}

/** The key `docker login HOST` uses in config.json. */
export function configKey(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_KEY : registry;
}

function readConfig(path: string): DockerConfig {
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, "utf8")) as DockerConfig;
  } catch (err) {
    throw new TsbuildError(`${path}: unreadable Docker config: ${(err as Error).message}`, { cause: err });
  }
}

function writeConfig(path: string, config: DockerConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileAtomic(path, `${JSON.stringify(config, null, "\t")}\n`, { mode: 0o600 });
}

/** The helper that holds `registry`'s credentials, if config.json names one. */
function helperFor(config: DockerConfig, registry: string): string | undefined {
  for (const [key, helper] of Object.entries(config.credHelpers ?? {})) {
    if (hostOfServerUrl(key) === registry) return helper;
  }
  return config.credsStore || undefined;
}

/** Runs `docker-credential-NAME ACTION`, feeding `input` on stdin. */
function runHelper(
  helper: string,
  action: "get" | "store" | "erase",
  input: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const bin = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [action], { stdio: ["pipe", "pipe", "pipe"], env });
    let out = "";
    let errOut = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (errOut += d.toString()));
    child.on("error", (err) =>
      reject(new TsbuildError(`credential helper ${bin}: ${err.message}`, { cause: err })),
    );
    child.on("close", (code) => {
      if (code === 0) resolve(out);
      else
        reject(
          new TsbuildError(`credential helper ${bin} ${action}: ${(out || errOut).trim() || `exit ${code}`}`),
        );
    });
    child.stdin.end(input);
  });
}

/** The credentials for `registry` from config.json or its credential helper; undefined if it has none. */
export async function getCredentials(
  registry: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Credentials | undefined> {
  const config = readConfig(dockerConfigPath(env));
  const helper = helperFor(config, registry);
  if (helper) {
    try {
      const got = JSON.parse(await runHelper(helper, "get", configKey(registry), env)) as {
        Username?: string;
        Secret?: string;
      };
      if (got.Secret) return { username: got.Username ?? "", password: got.Secret };
    } catch (err) {
      // Helpers answer "credentials not found in native keychain" with a non-zero exit.
      if (!/not found/i.test((err as Error).message)) throw err;
    }
  }
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (hostOfServerUrl(key) !== registry) continue;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon >= 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  }
  return undefined;
}

/** Saves credentials the way `docker login` does: in the registry's helper, else base64 in `auths`. */
export async function storeCredentials(
  registry: string,
  creds: Credentials,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const path = dockerConfigPath(env);
  const config = readConfig(path);
  const key = configKey(registry);
  const helper = helperFor(config, registry);
  if (helper) {
    await runHelper(
      helper,
      "store",
      JSON.stringify({ ServerURL: key, Username: creds.username, Secret: creds.password }),
      env,
    );
    return `docker-credential-${helper}`;
  }
  config.auths = {
    ...config.auths,
    [key]: { auth: Buffer.from(`${creds.username}:${creds.password}`).toString("base64") },
  };
  writeConfig(path, config);
  return path;
}

/** Removes `registry`'s credentials; false if there were none in config.json. */
export async function eraseCredentials(
  registry: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<boolean> {
  const path = dockerConfigPath(env);
  const config = readConfig(path);
  const helper = helperFor(config, registry);
  if (helper) await runHelper(helper, "erase", configKey(registry), env).catch(() => undefined);
  const keys = Object.keys(config.auths ?? {}).filter((k) => hostOfServerUrl(k) === registry);
  if (keys.length === 0) return helper !== undefined;
  for (const k of keys) delete config.auths![k];
  writeConfig(path, config);
  return true;
}
