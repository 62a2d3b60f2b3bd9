// The COPY/ADD op: which sources the instruction names (context or named-context files, another stage's
// or an image's rootfs, URLs, git repositories, heredocs), what identifies them for the cache key, and
// placing them in the mounted active snapshot.
import { randomBytes } from "node:crypto";
import { BuildStepError, DockerfileError } from "../../src/errors.js";
import { withMounts } from "../../snapshotter/mount.js";
import { type Owner, resolveChown } from "../context/chown.js";
import type { PatternMatcher } from "../context/dockerignore.js";
import type { Command } from "../dockerfile/types.js";
import { type StageState, expansionEnv } from "../state.js";
import { copyIntoRoot } from "./copy.js";
import { type HeredocFile, heredocFiles, writeHeredocDir } from "./add/heredoc-sources.js";
import { GitSources, isGitUrl } from "./add/git.js";
import { RemoteSources } from "./add/remote-sources.js";
import { isRemoteUrl } from "./add/remote.js";
import { unpackIfArchive } from "./add/unpack.js";
import type { LayerOp, OpContext, SourceDir } from "./op.js";
import { stageSourceChecksum } from "./stage-checksum.js";

/** A symlink named as a COPY source is followed, as BuildKit's Dockerfile frontend does. */
const FOLLOW_SOURCE_SYMLINKS = true;

export type CopyCommand = Extract<Command, { kind: "COPY" | "ADD" }>;

type Fail = (message: string, cause?: unknown) => Error;

/** The instruction with its words expanded and its sources sorted by kind. */
interface CopyPlan {
  cmd: CopyCommand;
  /** Context / named context / stage paths and patterns. */
  patterns: string[];
  urls: string[];
  gitUrls: string[];
  heredocs: HeredocFile[];
  dest: string;
  chown?: string;
  chmod?: string;
  workdir: string;
  /** `--from` a stage or image; otherwise the files come from `fromDir`. */
  fromState?: StageState;
  fromDir: SourceDir;
  /** A Dockerfile error (exit 2) and a step failure (exit 1: the Dockerfile is fine, a download failed). */
  fail: Fail;
  failed: Fail;
}

export async function copyOp(cmd: CopyCommand, s: StageState, ctx: OpContext): Promise<LayerOp> {
  const plan = await planCopy(cmd, s, ctx);
  const checksum = cmd.checksum ? expandWith(s, ctx, plan.fail)(cmd.checksum) : undefined;
  const onWarning = (message: string) => ctx.progress.emit({ type: "warning", code: "HttpTrust", message });
  const remote = new RemoteSources(plan.urls, checksum, ctx.signal, onWarning);
  const git = new GitSources(plan.gitUrls, cmd.keepGitDir === true, ctx.signal);
  return {
    kind: cmd.kind,
    inputs: {
      srcPatterns: plan.patterns,
      dest: plan.dest,
      workdir: plan.workdir,
      chown: plan.chown,
      chmod: plan.chmod,
      sourceId: await sourceIdentity(plan, ctx),
      link: cmd.link,
      exclude: cmd.exclude,
      // Only when present, so keys of plain COPY steps stay what they were.
      ...(plan.heredocs.length ? { heredocs: plan.heredocs } : {}),
      ...(cmd.parents ? { parents: true } : {}),
      // The --checksum when given (a hit then needs no download), else the downloaded content's digest.
      ...(plan.urls.length ? { urls: await guardAsync(() => remote.identities(), plan.failed) } : {}),
      // The commit each ref names: a rebuild fetches nothing while the refs stay put.
      ...(plan.gitUrls.length ? { git: await guardAsync(() => git.identities(), plan.failed) } : {}),
    },
    exec: (mounts) =>
      withMounts(mounts, async (destRoot) => {
        await placeSources(plan, ctx, destRoot, remote, git);
        return {};
      }),
    release: () => remote.release(),
  };
}

function expandWith(s: StageState, ctx: OpContext, fail: Fail) {
  return (w: string): string => {
    try {
      return ctx.lex.processWord(w, expansionEnv(s));
    } catch (err) {
      throw fail((err as Error).message, err);
    }
  };
}

/** Expands the instruction's words and resolves where its files come from. */
async function planCopy(cmd: CopyCommand, s: StageState, ctx: OpContext): Promise<CopyPlan> {
  const fail: Fail = (msg, cause) =>
    new DockerfileError(cmd.location, `${cmd.kind}: ${msg}`, ctx.sourceLines, { cause });
  const failed: Fail = (msg, cause) =>
    new BuildStepError(`${cmd.location.file}:${cmd.location.startLine}: ${msg}`, cmd.location, { cause });
  const expand = expandWith(s, ctx, fail);
  const words = cmd.sources.map(expand);
  // ADD fetches git repositories and http(s) URLs; COPY treats such a word as a (missing) path, as
  // BuildKit does.
  const gitUrls = cmd.kind === "ADD" ? words.filter(isGitUrl) : [];
  const urls = cmd.kind === "ADD" ? words.filter((w) => isRemoteUrl(w) && !gitUrls.includes(w)) : [];
  const patterns = words.filter((w) => !urls.includes(w) && !gitUrls.includes(w));
  const heredocs = guard(() => heredocFiles(cmd.heredocs, expansionEnv(s)), fail);
  const dest = expand(cmd.dest);
  const remoteSources = urls.length + heredocs.length + gitUrls.length;
  if (words.length + heredocs.length > 1 && !dest.endsWith("/") && remoteSources > 0) {
    throw fail(`with more than one source the destination must be a directory and end with a /: ${dest}`);
  }
  const plan: CopyPlan = {
    cmd,
    patterns,
    urls,
    gitUrls,
    heredocs,
    dest,
    chown: cmd.chown ? expand(cmd.chown) : undefined,
    chmod: cmd.chmod ? expand(cmd.chmod) : undefined,
    workdir: s.config.config.WorkingDir || "/",
    fromDir: ctx.sources.context,
    fail,
    failed,
  };
  if (cmd.from !== undefined) {
    const ref = expand(cmd.from);
    const named = ctx.sources.named(ref);
    if (named) plan.fromDir = named;
    else plan.fromState = await ctx.sources.state(ref);
    if (!named && !plan.fromState)
      throw fail(`--from=${ref}: no stage, build context or local image of that name`);
  }
  return plan;
}

/** The cache identity of the local sources: a stage's content identity, or the checksum of the files. */
async function sourceIdentity(plan: CopyPlan, ctx: OpContext): Promise<string | undefined> {
  const { fromState, patterns, cmd } = plan;
  const selection = { excludes: cmd.exclude, followSymlinks: FOLLOW_SOURCE_SYMLINKS };
  try {
    if (fromState && patterns.length > 0)
      return await stageSourceChecksum(ctx, fromState, { patterns, ...selection });
    if (fromState) return fromState.identity;
    if (patterns.length > 0) return await plan.fromDir.hasher.checksumSources(patterns, selection);
    return undefined;
  } catch (err) {
    throw plan.fail((err as Error).message, err);
  }
}

/** Writes every source into the mounted rootfs `destRoot`. */
async function placeSources(
  plan: CopyPlan,
  ctx: OpContext,
  destRoot: string,
  remote: RemoteSources,
  git: GitSources,
): Promise<void> {
  const { cmd, dest, workdir, chmod, fail, failed } = plan;
  const owner = plan.chown ? resolveChownOrFail(plan.chown, destRoot, fail) : undefined;
  const copy = copier(plan, destRoot, owner);
  await guardAsync(() => remote.placeAll({ destRoot, dest, workdir, owner, chmod }), fail).finally(() =>
    remote.release(),
  );
  // A repository is copied as a directory's contents; its archives stay archives. A failed fetch or
  // checkout (a BuildStepError) exits 1; a failed copy fails as COPY's do.
  await git
    .placeAll((dir) => copy(dir, ["."], "context", undefined, false))
    .catch((err: Error) => {
      throw err instanceof BuildStepError ? failed(err.message, err) : err;
    });
  if (plan.heredocs.length > 0) {
    const tmp = writeHeredocDir(plan.heredocs);
    try {
      await copy(
        tmp.dir,
        plan.heredocs.map((h) => h.name),
        "context",
      );
    } finally {
      tmp.remove();
    }
  }
  if (plan.patterns.length === 0) return;
  if (!plan.fromState) {
    await copy(plan.fromDir.root, plan.patterns, "context", plan.fromDir.matcher);
    return;
  }
  if (!plan.fromState.snapshot) throw fail(`--from=${cmd.from}: the stage's filesystem is empty`);
  const viewKey = `view/${randomBytes(8).toString("hex")}`;
  const viewMounts = await ctx.snapshotter.view(viewKey, plan.fromState.snapshot);
  try {
    await withMounts(viewMounts, (srcRoot) => copy(srcRoot, plan.patterns, "rootfs"));
  } finally {
    await ctx.snapshotter.remove(viewKey).catch(() => undefined);
  }
}

/**
 * copyIntoRoot with the instruction's options. `asInstruction`: with the instruction's --exclude,
 * --parents and ADD's archive extraction (a git checkout is copied as a plain directory instead).
 */
function copier(plan: CopyPlan, destRoot: string, owner: Owner | undefined) {
  const { cmd } = plan;
  const unpack =
    cmd.kind === "ADD" && !plan.fromState
      ? (abs: string, rel: string, destAbs: string) => unpackIfArchive(abs, rel, destRoot, destAbs, owner)
      : undefined;
  return async (
    sourceRoot: string,
    patterns: string[],
    kind: "rootfs" | "context",
    matcher?: PatternMatcher,
    asInstruction = true,
  ): Promise<void> => {
    await copyIntoRoot({
      sourceRoot,
      sourceKind: kind,
      matcher,
      sources: patterns,
      unpack: kind === "context" && asInstruction ? unpack : undefined,
      dest: plan.dest,
      workdir: plan.workdir,
      destRoot,
      chown: owner,
      chmod: plan.chmod,
      ...(asInstruction
        ? { excludes: cmd.exclude, followSymlinksInSource: FOLLOW_SOURCE_SYMLINKS, parents: cmd.parents }
        : {}),
    }).catch((err: Error) => {
      throw plan.fail(err.message, err);
    });
  };
}

/** Runs f, turning what it throws into `fail`'s error (a Dockerfile-located message). */
function guard<T>(f: () => T, fail: Fail): T {
  try {
    return f();
  } catch (err) {
    throw fail((err as Error).message, err);
  }
}

async function guardAsync<T>(f: () => Promise<T>, fail: Fail): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw fail((err as Error).message, err);
  }
}

function resolveChownOrFail(spec: string, root: string, fail: Fail) {
  try {
    return resolveChown(spec, root);
  } catch (err) {
    throw fail(`--chown=${spec}: ${(err as Error).message}`, err);
  }
}
