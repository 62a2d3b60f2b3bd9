import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import type { Command } from "commander";
import { type BuildOptions, build } from "../../builder/build.js";
import type { PullPolicy } from "../../builder/ops/source.js";
import { InterruptedError, UsageError, messageOf } from "../../src/errors.js";
import { normalizeImageName } from "../../src/oci/reference.js";
import type { Compression } from "../../src/oci/types.js";
import { createReporter } from "../../src/progress/reporter.js";
import { type LimitFlags, limitOptions, parseLimitFlags } from "../limit-flags.js";
import { openStore } from "../open-store.js";
import { collectKeyValue, collectList, parseOutput } from "../options.js";
import { parseSize, pruneAfterBuild } from "./prune.js";
import { type SecretSource, parseSecretFlag } from "../../builder/ops/mounts/secrets.js";
import { parseSshFlag, type SshSources } from "../../builder/ops/mounts/ssh.js";
import {
  type CacheExportSpec,
  type CacheImportSpec,
  parseCacheFrom,
  parseCacheTo,
} from "../../builder/cache/remote/spec.js";

/** Repeatable `--secret id=X,src=FILE|env=VAR` → secrets by id. */
function collectSecret(value: string, prev: Record<string, SecretSource> = {}): Record<string, SecretSource> {
  const [id, source] = parseSecretFlag(value);
  return { ...prev, [id]: source };
}

/** Repeatable `--ssh default|ID[=SOCKET]` → agent sockets by id. */
function collectSsh(value: string, prev: SshSources = {}): SshSources {
  const [id, socket] = parseSshFlag(value, process.env);
  return { ...prev, [id]: socket };
}

/**
 * Repeatable `--build-arg K=V`; a bare `--build-arg K` takes K's value from the environment, and is
 * left unset when the environment has none (docker's behaviour).
 */
function collectBuildArg(value: string, prev: Record<string, string> = {}): Record<string, string> {
  if (value.includes("=")) return collectKeyValue("--build-arg")(value, prev);
  if (value === "") throw new UsageError("--build-arg: expected KEY[=VALUE]");
  const fromEnv = process.env[value];
  return fromEnv === undefined ? prev : { ...prev, [value]: fromEnv };
}

/** `--no-cache-filter a,b --no-cache-filter c` → [a, b, c]. */
function collectCommaList(value: string, prev: string[] = []): string[] {
  const items = value.split(",").map((v) => v.trim());
  return [...prev, ...items.filter(Boolean)];
}

function pullPolicy(flag: boolean | string | undefined): PullPolicy {
  if (flag === undefined || flag === "false") return "missing";
  if (flag === true || flag === "true") return "always";
  if (flag === "always" || flag === "missing" || flag === "never") return flag;
  throw new UsageError(`--pull=${String(flag)}: expected always, missing or never`);
}

interface BuildFlags extends LimitFlags {
  tag: string[];
  file?: string;
  buildArg: Record<string, string>;
  buildContext: Record<string, string>;
  target?: string;
  cache: boolean;
  /** From --no-cache-filter: commander names a "--no-" option after the rest of its name. */
  cacheFilter?: string[];
  secret: Record<string, SecretSource>;
  ssh: SshSources;
  metricsFile?: string;
  output?: string;
  pull?: boolean | string;
  push?: boolean;
  cacheTo: CacheExportSpec[];
  cacheFrom: CacheImportSpec[];
  insecureRegistry: string[];
  progress: "auto" | "plain" | "tty" | "json";
  compression: string;
  layerXattrs: string;
  jobs: string;
  keepStorage?: string;
}

export function registerBuild(program: Command): void {
  const cmd = program
    .command("build")
    .description("build an image from a Dockerfile and a context directory")
    .argument("<context>", "build context directory");
  inputOptions(cmd);
  cacheOptions(cmd);
  outputOptions(cmd);
  limitOptions(cmd);
  cmd.action((context: string, flags: BuildFlags) => runBuild(context, flags));
}

/** What goes into the build: the Dockerfile, names, args, contexts, secrets. */
function inputOptions(cmd: Command): void {
  cmd
    .option("-t, --tag <name>", "name and tag the image (repeatable)", collectList, [])
    .option(
      "-f, --file <path>",
      "Dockerfile, - for stdin (default: CONTEXT/Dockerfile, else CONTEXT/Containerfile)",
    )
    .option(
      "--build-arg <key[=value]>",
      "set a build argument; a bare KEY takes its value from the environment (repeatable)",
      collectBuildArg,
      {},
    )
    .option(
      "--build-context <name=dir>",
      "add a named context for COPY --from (repeatable)",
      collectKeyValue("--build-context"),
      {},
    )
    .option("--target <stage>", "build this stage (default: the last)")
    .option(
      "--secret <id=X,src=FILE|env=VAR>",
      "a secret for RUN --mount=type=secret (repeatable)",
      collectSecret,
      {},
    )
    .option(
      "--ssh <default|id[=socket]>",
      "an ssh-agent socket for RUN --mount=type=ssh (default: $SSH_AUTH_SOCK) (repeatable)",
      collectSsh,
      {},
    )
    .option("--pull [policy]", "pull base images: always (the flag alone), missing (default) or never")
    .option(
      "--insecure-registry <host>",
      "reach this registry over plain HTTP (repeatable)",
      collectList,
      [],
    );
}

/** The layer cache: skipping it, sharing it, bounding it, measuring it. */
function cacheOptions(cmd: Command): void {
  cmd
    .option("--no-cache", "do not use the layer cache")
    .option(
      "--no-cache-filter <stages>",
      "do not use the cache for these stages (repeatable, comma list)",
      collectCommaList,
      [],
    )
    .option(
      "--cache-to <spec>",
      "export the build cache: type=registry,ref=HOST/REPO:TAG[,mode=min|max] or type=local,dest=DIR[,tag=T][,mode=…] (repeatable)",
      (v: string, prev: CacheExportSpec[] = []) => [...prev, parseCacheTo(v)],
      [],
    )
    .option(
      "--cache-from <spec>",
      "reuse an exported cache: type=registry,ref=HOST/REPO:TAG or type=local,src=DIR[,tag=T] (repeatable)",
      (v: string, prev: CacheImportSpec[] = []) => [...prev, parseCacheFrom(v)],
      [],
    )
    .option(
      "--keep-storage <size>",
      "after the build, prune the build cache down to SIZE as `prune --keep-storage` does (default: $TSBUILD_KEEP_STORAGE, else no prune)",
    )
    .option(
      "--metrics-file <file>",
      "write per-step metrics (key, cached, times, layer size, RUN usage) as JSON",
    );
}

/** What comes out, and how: exports, push, progress, layer compression, parallelism. */
function outputOptions(cmd: Command): void {
  cmd
    .option("-o, --output <spec>", "also export: type=oci,dest=FILE")
    .option("--push", "push every -t name to its registry after the build")
    .option(
      "--progress <mode>",
      "progress output: auto (tty on a terminal, else plain), plain, tty or json",
      "auto",
    )
    .option("--compression <algo>", "layer compression: gzip, zstd or none", "gzip")
    .option(
      "--layer-xattrs <which>",
      "extended attributes new layers record: capability (security.capability only, as BuildKit) or all",
      "capability",
    )
    .option("--jobs <n>", "steps that may run at once", String(availableParallelism()));
}

/** `SOURCE_DATE_EPOCH`: whole seconds since 1970 (reproducible-builds.org), or unset/empty for none. */
export function parseSourceDateEpoch(
  value: string | undefined,
  what = "SOURCE_DATE_EPOCH",
): number | undefined {
  if (value === undefined || value === "") return undefined;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)))
    throw new UsageError(`${what}=${value}: expected a whole number of seconds since 1970`);
  return Number(value);
}

/**
 * The build's epoch: `--build-arg SOURCE_DATE_EPOCH=…` (BuildKit's spelling, which Dockerfiles
 * document) wins over the environment variable.
 */
function sourceDateEpochOf(flags: BuildFlags, env: NodeJS.ProcessEnv): number | undefined {
  const arg = flags.buildArg.SOURCE_DATE_EPOCH;
  if (arg !== undefined) return parseSourceDateEpoch(arg, "--build-arg SOURCE_DATE_EPOCH");
  return parseSourceDateEpoch(env.SOURCE_DATE_EPOCH);
}

function checkTag(tag: string): void {
  try {
    normalizeImageName(tag);
  } catch (err) {
    throw new UsageError(`-t ${tag}: ${messageOf(err)}`, { cause: err });
  }
}

/** The checked flags as build options. */
function buildOptionsOf(context: string, flags: BuildFlags, env: NodeJS.ProcessEnv): BuildOptions {
  if (!["gzip", "zstd", "none"].includes(flags.compression)) {
    throw new UsageError(`--compression ${flags.compression}: expected gzip, zstd or none`);
  }
  if (!["capability", "all"].includes(flags.layerXattrs)) {
    throw new UsageError(`--layer-xattrs ${flags.layerXattrs}: expected capability or all`);
  }
  // Checked now, not after the build: a bad name must not cost the whole build first.
  for (const tag of flags.tag) checkTag(tag);
  const jobs = Number(flags.jobs);
  if (!Number.isInteger(jobs) || jobs < 1)
    throw new UsageError(`--jobs ${flags.jobs}: expected a positive integer`);
  return {
    contextDir: context,
    dockerfile: flags.file,
    tags: flags.tag,
    buildArgs: flags.buildArg,
    target: flags.target,
    noCache: !flags.cache,
    noCacheFilter: flags.cacheFilter ?? [],
    secrets: flags.secret,
    ssh: flags.ssh,
    metricsFile: flags.metricsFile,
    buildContexts: flags.buildContext,
    ociArchive: flags.output ? parseOutput(flags.output).dest : undefined,
    jobs,
    compression: flags.compression as Compression,
    layerXattrs: flags.layerXattrs as BuildOptions["layerXattrs"],
    sourceDateEpoch: sourceDateEpochOf(flags, env),
    pull: pullPolicy(flags.pull),
    push: flags.push === true,
    cacheTo: flags.cacheTo,
    cacheFrom: flags.cacheFrom,
    insecureRegistries: flags.insecureRegistry,
    runLimits: parseLimitFlags(flags),
  };
}

/** `--keep-storage`, else $TSBUILD_KEEP_STORAGE: the automatic prune after the build. */
function keepStorageOf(flags: BuildFlags, env: NodeJS.ProcessEnv) {
  const text = flags.keepStorage ?? env.TSBUILD_KEEP_STORAGE;
  if (text === undefined || text === "") return undefined;
  const what = flags.keepStorage !== undefined ? "--keep-storage" : "TSBUILD_KEEP_STORAGE";
  return { bytes: parseSize(text, what), text };
}

const CANCEL_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

async function runBuild(context: string, flags: BuildFlags): Promise<void> {
  const options = buildOptionsOf(context, flags, process.env);
  if (flags.file === "-") options.dockerfileText = readFileSync(0, "utf8");
  const keepStorage = keepStorageOf(flags, process.env);
  const opened = await openStore();
  const progress = createReporter(flags.progress, process.stderr);
  const interrupt = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => interrupt.abort(new InterruptedError(signal));
  // SIGHUP too: a build whose terminal or ssh session goes away cancels as cleanly as on Ctrl-C,
  // instead of dying with its active snapshots, build marker and cgroups left behind.
  for (const s of CANCEL_SIGNALS) process.once(s, onSignal);
  try {
    await build(options, { ...opened, progress, signal: interrupt.signal });
    if (keepStorage !== undefined) await pruneAfterBuild(opened, keepStorage, process.stderr);
  } finally {
    for (const s of CANCEL_SIGNALS) process.off(s, onSignal);
    progress.close();
  }
}
