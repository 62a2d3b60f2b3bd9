// COPY / ADD (local sources) and WORKDIR's mkdir: file operations on a mounted active snapshot.
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { posix } from "node:path";
import { BuildStepError, DockerfileError } from "../../src/errors.js";
import { withMounts } from "../../snapshotter/mount.js";
import { stageSourceChecksum } from "./stage-checksum.js";
import { stepCacheKey } from "../cache/keys.js";
import type { ContextHasher } from "../context/checksum.js";
import { resolveChown } from "../context/chown.js";
import type { PatternMatcher } from "../context/dockerignore.js";
import { resolveInRoot } from "../context/securejoin.js";
import type { Command } from "../dockerfile/types.js";
import type { ShellLex } from "../dockerfile/shell.js";
import { type StageState, expansionEnv } from "../state.js";
import type { OpContext } from "./context.js";
import { copyIntoRoot } from "./copy.js";
import { applyRecord, lookupCache, runLayerStep } from "./layer-step.js";
import { heredocFiles, writeHeredocDir } from "./add/heredoc-sources.js";
import { GitSources, isGitUrl } from "./add/git.js";
import { RemoteSources } from "./add/remote-sources.js";
import { isRemoteUrl } from "./add/remote.js";
import { unpackIfArchive } from "./add/unpack.js";

/** A symlink named as a COPY source is followed, as BuildKit's Dockerfile frontend does. */
const FOLLOW_SOURCE_SYMLINKS = true;

export type CopyCommand = Extract<Command, { kind: "COPY" | "ADD" }>;

/** A directory files are copied from: the build context or a named context. */
export interface SourceDir {
  root: string;
  matcher?: PatternMatcher;
  hasher: ContextHasher;
}

/** Where `--from` and the default source resolve. */
export interface CopySources {
  context: SourceDir;
  /** A named build context (`--build-context name=dir`), if `ref` is one. */
  named(ref: string): SourceDir | undefined;
  /** The final state of the stage (or local image) named by `ref`; undefined if there is none. */
  state(ref: string): Promise<StageState | undefined>;
}

interface StepInfo {
  lex: ShellLex;
  sourceLines: string[];
}

export async function execCopy(
  cmd: CopyCommand,
  s: StageState,
  ctx: OpContext,
  sources: CopySources,
  info: StepInfo,
): Promise<{ cached: boolean; durationMs: number }> {
  const fail = (msg: string) => new DockerfileError(cmd.location, `${cmd.kind}: ${msg}`, info.sourceLines);
  // The Dockerfile is fine but the step cannot complete (a download failed): exit 1, not 2.
  const failed = (msg: string) =>
    new BuildStepError(`${cmd.location.file}:${cmd.location.startLine}: ${msg}`, cmd.location);
  const expand = (w: string) => {
    try {
      return info.lex.processWord(w, expansionEnv(s));
    } catch (err) {
      throw fail((err as Error).message);
    }
  };
  const words = cmd.sources.map(expand);
  // ADD fetches git repositories and http(s) URLs; COPY treats such a word as a (missing) path, as
  // BuildKit does.
  const gitUrls = cmd.kind === "ADD" ? words.filter(isGitUrl) : [];
  const urls = cmd.kind === "ADD" ? words.filter((w) => isRemoteUrl(w) && !gitUrls.includes(w)) : [];
  const srcPatterns = words.filter((w) => !urls.includes(w) && !gitUrls.includes(w));
  const heredocs = guard(() => heredocFiles(cmd.heredocs, expansionEnv(s)), fail);
  const dest = expand(cmd.dest);
  const chown = cmd.chown ? expand(cmd.chown) : undefined;
  const chmod = cmd.chmod ? expand(cmd.chmod) : undefined;
  const workdir = s.config.config.WorkingDir || "/";

  // Resolve the source: a stage/image (by content identity) or a directory (by file checksums).
  let fromState: StageState | undefined;
  let fromDir: SourceDir = sources.context;
  if (cmd.from !== undefined) {
    const ref = expand(cmd.from);
    const named = sources.named(ref);
    if (named) fromDir = named;
    else fromState = await sources.state(ref);
    if (!named && !fromState)
      throw fail(`--from=${ref}: no stage, build context or local image of that name`);
  }
  if (
    words.length + heredocs.length > 1 &&
    !dest.endsWith("/") &&
    (urls.length > 0 || heredocs.length > 0 || gitUrls.length > 0)
  ) {
    throw fail(`with more than one source the destination must be a directory and end with a /: ${dest}`);
  }
  let sourceId: string | undefined;
  try {
    if (fromState && srcPatterns.length > 0) {
      sourceId = await stageSourceChecksum(ctx, fromState, {
        patterns: srcPatterns,
        excludes: cmd.exclude,
        followSymlinks: FOLLOW_SOURCE_SYMLINKS,
      });
    } else if (fromState) sourceId = fromState.identity;
    else if (srcPatterns.length > 0) {
      sourceId = await fromDir.hasher.checksumSources(srcPatterns, {
        excludes: cmd.exclude,
        followSymlinks: FOLLOW_SOURCE_SYMLINKS,
      });
    }
  } catch (err) {
    throw fail((err as Error).message);
  }
  const remote = new RemoteSources(urls, cmd.checksum ? expand(cmd.checksum) : undefined, ctx.signal);
  const git = new GitSources(gitUrls, cmd.keepGitDir === true, ctx.signal);

  const key = stepCacheKey({
    parent: s.identity,
    op: cmd.kind,
    inputs: {
      srcPatterns,
      dest,
      workdir,
      chown,
      chmod,
      sourceId,
      link: cmd.link,
      exclude: cmd.exclude,
      // Only when present, so keys of plain COPY steps stay what they were.
      ...(heredocs.length ? { heredocs } : {}),
      ...(cmd.parents ? { parents: true } : {}),
      // The --checksum when given (a hit then needs no download), else the downloaded content's digest.
      ...(urls.length ? { urls: await guardAsync(() => remote.identities(), failed) } : {}),
      // The commit each ref names: a rebuild fetches nothing while the refs stay put.
      ...(gitUrls.length ? { git: await guardAsync(() => git.identities(), failed) } : {}),
    },
  });
  const hit = await lookupCache(ctx, key);
  if (hit) {
    remote.release();
    applyRecord(s, hit, cmd.original);
    return { cached: true, durationMs: hit.durationMs };
  }
  const record = await runLayerStep(ctx, s, key, (mounts) =>
    withMounts(mounts, async (destRoot) => {
      const owner = chown ? resolveChownOrFail(chown, destRoot, fail) : undefined;
      const unpack =
        cmd.kind === "ADD" && !fromState
          ? (abs: string, rel: string, destAbs: string) => unpackIfArchive(abs, rel, destRoot, destAbs, owner)
          : undefined;
      const copyFrom = (
        sourceRoot: string,
        patterns: string[],
        kind: "rootfs" | "context",
        matcher?: PatternMatcher,
      ) =>
        copyIntoRoot({
          sourceRoot,
          sourceKind: kind,
          matcher,
          sources: patterns,
          unpack: kind === "context" ? unpack : undefined,
          dest,
          workdir,
          destRoot,
          chown: owner,
          chmod,
          excludes: cmd.exclude,
          followSymlinksInSource: FOLLOW_SOURCE_SYMLINKS,
          parents: cmd.parents,
        }).catch((err: Error) => {
          throw fail(err.message);
        });
      await guardAsync(() => remote.placeAll({ destRoot, dest, workdir, owner, chmod }), fail).finally(() =>
        remote.release(),
      );
      // A repository is copied as a directory's contents; its archives stay archives.
      const copyCheckout = (dir: string) =>
        copyIntoRoot({
          sourceRoot: dir,
          sourceKind: "context",
          sources: ["."],
          dest,
          workdir,
          destRoot,
          chown: owner,
          chmod,
        }).catch((err: Error) => {
          throw fail(err.message);
        });
      // A failed fetch or checkout (a BuildStepError) exits 1; a failed copy fails as COPY's do.
      await git.placeAll(copyCheckout).catch((err: Error) => {
        throw err instanceof BuildStepError ? failed(err.message) : err;
      });
      if (heredocs.length > 0) {
        const tmp = writeHeredocDir(heredocs);
        try {
          await copyFrom(
            tmp.dir,
            heredocs.map((h) => h.name),
            "context",
          );
        } finally {
          tmp.remove();
        }
      }
      if (srcPatterns.length === 0) return;
      if (!fromState) {
        await copyFrom(fromDir.root, srcPatterns, "context", fromDir.matcher);
        return;
      }
      if (!fromState.snapshot) throw fail(`--from=${cmd.from}: the stage's filesystem is empty`);
      const viewKey = `view/${randomBytes(8).toString("hex")}`;
      const viewMounts = await ctx.snapshotter.view(viewKey, fromState.snapshot);
      try {
        await withMounts(viewMounts, (srcRoot) =>
          copyFrom(srcRoot, srcPatterns, "rootfs").then(() => undefined),
        );
      } finally {
        await ctx.snapshotter.remove(viewKey).catch(() => undefined);
      }
    }),
  );
  ctx.cache.put(record);
  applyRecord(s, record, cmd.original);
  return { cached: false, durationMs: record.durationMs };
}

/** Runs f, turning what it throws into `fail`'s error (a Dockerfile-located message). */
function guard<T>(f: () => T, fail: (m: string) => Error): T {
  try {
    return f();
  } catch (err) {
    throw fail((err as Error).message);
  }
}

async function guardAsync<T>(f: () => Promise<T>, fail: (m: string) => Error): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw fail((err as Error).message);
  }
}

function resolveChownOrFail(spec: string, root: string, fail: (m: string) => Error) {
  try {
    return resolveChown(spec, root);
  } catch (err) {
    throw fail(`--chown=${spec}: ${(err as Error).message}`);
  }
}

/** WORKDIR makes its directory exist (a layer only when it did not). */
export async function execWorkdirMkdir(
  path: string,
  s: StageState,
  ctx: OpContext,
  original: string,
): Promise<{ cached: boolean; durationMs: number }> {
  const key = stepCacheKey({ parent: s.identity, op: "WORKDIR", inputs: { path } });
  const hit = await lookupCache(ctx, key);
  if (hit) {
    applyRecord(s, hit, original);
    return { cached: true, durationMs: hit.durationMs };
  }
  const record = await runLayerStep(ctx, s, key, (mounts) =>
    withMounts(mounts, async (root) => {
      mkdirSync(resolveInRoot(root, posix.resolve("/", path)), { recursive: true, mode: 0o755 });
    }),
  );
  ctx.cache.put(record);
  applyRecord(s, record, original);
  return { cached: false, durationMs: record.durationMs };
}
