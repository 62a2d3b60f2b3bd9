// ADD <git URL>: a repository at a ref, checked out with the host's git. The step's key is the
// commit the ref names (resolved with `git ls-remote`, as BuildKit does), so a rebuild fetches
// nothing while the ref stays put. The checkout's files get the commit's time as mtime: the same
// commit always makes the same layer.
import { execFile } from "node:child_process";
import { lstatSync, mkdtempSync, readdirSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuildStepError } from "../../../src/errors.js";
import { resolveInRoot } from "../../context/securejoin.js";

export interface GitRef {
  /** What git fetches from: the URL without its #fragment. */
  remote: string;
  /** Branch, tag or commit; undefined: the remote's HEAD. */
  ref?: string;
  /** Only this directory of the repository (`#ref:subdir`). */
  subdir?: string;
}

/**
 * Git sources as BuildKit recognizes them: git://, ssh:// and scp-like git@host:path addresses, and
 * http(s) URLs whose path ends in .git.
 */
export function isGitUrl(src: string): boolean {
  if (/^(git|ssh):\/\//i.test(src) || /^[\w.-]+@[\w.-]+:/.test(src)) return true;
  if (!/^https?:\/\//i.test(src)) return false;
  const path = src.replace(/#.*$/, "").replace(/\?.*$/, "");
  return /\.git\/?$/i.test(path);
}

/** `URL[#ref[:subdir]]`. */
export function parseGitUrl(src: string): GitRef {
  const hash = src.indexOf("#");
  const remote = hash < 0 ? src : src.slice(0, hash);
  const fragment = hash < 0 ? "" : src.slice(hash + 1);
  const colon = fragment.indexOf(":");
  const ref = (colon < 0 ? fragment : fragment.slice(0, colon)) || undefined;
  const subdir = colon < 0 ? undefined : fragment.slice(colon + 1).replace(/^\/+|\/+$/g, "") || undefined;
  return { remote, ...(ref ? { ref } : {}), ...(subdir ? { subdir } : {}) };
}

function git(args: string[], signal: AbortSignal, cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      args,
      {
        cwd,
        signal,
        maxBuffer: 64 << 20,
        // Never a password prompt in a build; no user or system config changes what is fetched.
        env: { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_CONFIG_NOSYSTEM: "1", LC_ALL: "C" },
      },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const detail = stderr.trim().split("\n").at(-1) || err.message;
        reject(new Error(`git ${args[0]}: ${detail}`));
      },
    );
  });
}

const SHA = /^[0-9a-f]{40}$/;

/** The commit `ref` names on the remote (a full commit id is taken as it is). */
export async function resolveCommit(g: GitRef, signal: AbortSignal): Promise<string> {
  if (g.ref && SHA.test(g.ref)) return g.ref;
  // `ref^{}` too: ls-remote lists an annotated tag's commit only under that name.
  const out = await git(
    ["ls-remote", "--", g.remote, ...(g.ref ? [g.ref, `${g.ref}^{}`] : ["HEAD"])],
    signal,
  );
  const refs = new Map(
    out
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [sha, name] = line.split("\t");
        return [name!, sha!] as const;
      }),
  );
  const want = g.ref ?? "HEAD";
  // A branch first, then a tag (an annotated tag's commit is its ^{} line), as BuildKit picks.
  for (const name of [`refs/heads/${want}`, `refs/tags/${want}^{}`, `refs/tags/${want}`, want]) {
    const sha = refs.get(name);
    if (sha) return sha;
  }
  throw new Error(`no branch or tag ${want}`);
}

export interface Checkout {
  /** The directory to copy: the work tree, or its subdir. */
  dir: string;
  remove(): void;
}

/** Fetches just `commit` (through its ref name, which any server allows) and checks it out. */
export async function checkout(
  g: GitRef,
  commit: string,
  keepGitDir: boolean,
  signal: AbortSignal,
): Promise<Checkout> {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-git-"));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    await git(["init", "-q", dir], signal);
    const wanted = g.ref && !SHA.test(g.ref) ? g.ref : commit;
    await git(["fetch", "-q", "--depth", "1", "--no-tags", "--", g.remote, wanted], signal, dir);
    const fetched = (await git(["rev-parse", "FETCH_HEAD^{commit}"], signal, dir)).trim();
    if (fetched !== commit)
      throw new Error(`${g.ref ?? "HEAD"} moved to ${fetched} while it was fetched (was ${commit})`);
    await git(["-c", "advice.detachedHead=false", "checkout", "-q", commit], signal, dir);
    const time = Number((await git(["log", "-1", "--format=%ct", commit], signal, dir)).trim());
    if (!keepGitDir) rmSync(join(dir, ".git"), { recursive: true, force: true });
    setTimes(dir, time);
    const top = g.subdir ? resolveInRoot(dir, `/${g.subdir}`) : dir;
    if (!lstatSync(top, { throwIfNoEntry: false })?.isDirectory())
      throw new Error(`no directory ${g.subdir}`);
    return { dir: top, remove };
  } catch (err) {
    remove();
    throw err;
  }
}

/** Every entry's atime and mtime (symlinks' own included) set to `seconds`. */
function setTimes(dir: string, seconds: number): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isDirectory()) setTimes(path, seconds);
    if (!st.isSymbolicLink()) utimesSync(path, seconds, seconds);
  }
  utimesSync(dir, seconds, seconds);
}

/** The git sources of one ADD: their keys, and their checkouts (made once, removed by release()). */
export class GitSources {
  private readonly parsed: GitRef[];
  private commits: Promise<string[]> | undefined;

  constructor(
    private readonly urls: string[],
    private readonly keepGitDir: boolean,
    private readonly signal: AbortSignal,
  ) {
    this.parsed = urls.map(parseGitUrl);
  }

  private resolveAll(): Promise<string[]> {
    return (this.commits ??= Promise.all(
      this.parsed.map((g, i) =>
        resolveCommit(g, this.signal).catch((err: Error) => {
          throw new BuildStepError(`ADD ${this.urls[i]}: ${err.message}`, undefined, { cause: err });
        }),
      ),
    ));
  }

  /** Per URL, what the step's key holds: the commit, the subdir and whether .git is kept. */
  async identities(): Promise<Record<string, unknown>[]> {
    const commits = await this.resolveAll();
    return this.parsed.map((g, i) => ({
      url: g.remote,
      commit: commits[i],
      subdir: g.subdir,
      keepGitDir: this.keepGitDir,
    }));
  }

  /** Checks each source out and hands its directory to `place` (which copies it into the rootfs). */
  async placeAll(place: (dir: string) => Promise<unknown>): Promise<void> {
    const commits = await this.resolveAll();
    for (const [i, g] of this.parsed.entries()) {
      const co = await checkout(g, commits[i]!, this.keepGitDir, this.signal).catch((err: Error) => {
        throw new BuildStepError(`ADD ${this.urls[i]}: ${err.message}`, undefined, { cause: err });
      });
      try {
        await place(co.dir);
      } finally {
        co.remove();
      }
    }
  }
}
