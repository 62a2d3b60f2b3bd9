// ADD <git URL> against a real git daemon: a tag, a branch with --keep-git-dir, a subdir; the key is
// the commit the ref names, so a rebuild hits until the ref moves.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../helpers/registry.js";
import { stepOutcomes, tempDir } from "../../helpers/tsbuild.js";
import { build, unpack, writeFiles } from "./helpers.js";

const COMMIT_TIME = 1_700_000_000;

describe("ADD <git URL>", () => {
  const store = tempDir("fe-git-store");
  const work = tempDir("fe-git-work");
  const base = join(work.path, "repos");
  const repo = join(base, "repo.git");
  const ctx = join(work.path, "ctx");
  let daemon: ChildProcess;
  let url: string;
  let commitTime = COMMIT_TIME;
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", repo, ...args], {
      encoding: "utf8",
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@t",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@t",
        GIT_AUTHOR_DATE: `@${commitTime} +0000`,
        GIT_COMMITTER_DATE: `@${commitTime} +0000`,
      },
    }).trim();
  const commit = (message: string) => {
    git("add", "-A");
    git("commit", "-q", "-m", message);
    commitTime += 100;
    return git("rev-parse", "HEAD");
  };
  let v1: string;

  beforeAll(async () => {
    mkdirSync(repo, { recursive: true });
    git("init", "-q", "-b", "main");
    writeFiles(repo, { README: "version 1\n", "sub/inner.txt": "inner\n", "run.sh": "#!/bin/sh\necho hi\n" });
    execFileSync("chmod", ["0755", join(repo, "run.sh")]);
    symlinkSync("README", join(repo, "link"));
    execFileSync("tar", ["-cf", join(repo, "data.tar"), "-C", repo, "README"]);
    v1 = commit("one");
    git("tag", "-a", "v1", "-m", "v1");
    writeFiles(repo, { README: "version 2\n" });
    commit("two");
    const port = await freePort();
    daemon = spawn(
      "git",
      [
        "daemon",
        "--reuseaddr",
        "--listen=127.0.0.1",
        `--port=${port}`,
        `--base-path=${base}`,
        "--export-all",
        base,
      ],
      { stdio: "ignore" },
    );
    url = `git://127.0.0.1:${port}/repo.git`;
    for (let i = 0; ; i++) {
      try {
        execFileSync("git", ["ls-remote", url], { stdio: "ignore" });
        break;
      } catch {
        if (i > 100) throw new Error("git daemon did not start");
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    writeFiles(ctx, {
      Dockerfile: [
        "FROM scratch",
        `ADD ${url}#v1 /v1`,
        `ADD --keep-git-dir=true ${url}#main /full`,
        `ADD ${url}#main:sub /sub`,
        "",
      ].join("\n"),
    });
  });
  afterAll(() => {
    daemon?.kill();
    store.cleanup();
    work.cleanup();
  });

  const adds = (stderr: string) =>
    stepOutcomes(stderr)
      .filter((s) => s.name.includes("] ADD "))
      .map((s) => s.outcome);

  it("checks out a tag, a branch with its .git, and a subdir, with the commit's time on every file", () => {
    const archive = join(work.path, "1.tar");
    const r = build(store.path, ctx, ["-t", "git:1", "-o", `type=oci,dest=${archive}`]);
    expect(r.code, r.stderr).toBe(0);
    const root = unpack(archive, work.path, "one");
    const read = (p: string) => readFileSync(join(root, p), "utf8");
    expect(read("v1/README")).toBe("version 1\n");
    expect(read("v1/sub/inner.txt")).toBe("inner\n");
    expect(readlinkSync(join(root, "v1/link"))).toBe("README");
    expect(lstatSync(join(root, "v1/run.sh")).mode & 0o777).toBe(0o755);
    // An archive in a repository is a file like any other: ADD extracts only local archives.
    expect(lstatSync(join(root, "v1/data.tar")).isFile()).toBe(true);
    expect(() => lstatSync(join(root, "v1/.git"))).toThrow();
    expect(lstatSync(join(root, "v1/README")).mtimeMs / 1000).toBe(COMMIT_TIME);
    expect(read("full/README")).toBe("version 2\n");
    expect(read("full/.git/HEAD").trim()).toBe(git("rev-parse", "main"));
    expect(read("sub/inner.txt")).toBe("inner\n");
    expect(() => lstatSync(join(root, "sub/README"))).toThrow();
    expect(v1).toMatch(/^[0-9a-f]{40}$/);
  });

  it("hits while the refs stay, and rebuilds only what a moved branch feeds", () => {
    const again = build(store.path, ctx, ["-t", "git:1"]);
    expect(again.code, again.stderr).toBe(0);
    expect(adds(again.stderr)).toEqual(["CACHED", "CACHED", "CACHED"]);
    writeFiles(repo, { "sub/inner.txt": "inner 3\n" });
    commit("three");
    const moved = build(store.path, ctx, ["-t", "git:1"]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(adds(moved.stderr)).toEqual(["CACHED", "DONE", "DONE"]);
  });

  it("fails an unknown ref naming the line and the ref", () => {
    writeFiles(ctx, { "bad/Dockerfile": `FROM scratch\nADD ${url}#nope /x\n` });
    const r = build(store.path, join(ctx, "bad"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Dockerfile:2: ADD ${url}#nope: no branch or tag nope`);
  });
});
