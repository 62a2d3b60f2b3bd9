// The docker CLI habits a user brings (issue 11): each spelled as `docker build` / buildah takes it,
// each checked on a real build's result.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TSBUILD, tempDir, tsbuild } from "../../helpers/tsbuild.js";
import { BASE_STAGE, BUSYBOX, rebuilt } from "../cache/helpers.js";
import { unpack } from "../frontend/helpers.js";

describe("docker CLI habits", () => {
  const store = tempDir("habits-store");
  const work = tempDir("habits-work");
  let n = 0;
  /** A fresh context with these files. */
  const context = (files: Record<string, string>) => {
    const dir = join(work.path, `ctx-${++n}`);
    for (const [p, content] of Object.entries(files)) {
      mkdirSync(join(dir, p, ".."), { recursive: true });
      writeFileSync(join(dir, p), content);
    }
    return dir;
  };
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    tsbuild(["build", ...BUSYBOX, "--progress", "plain", ...args], { root: store.path, env });
  /** Builds into an OCI archive and returns the rootfs. */
  const rootfsOf = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const name = `img${++n}`;
    const archive = join(work.path, `${name}.tar`);
    const r = run(["-t", `${name}:1`, "-o", `type=oci,dest=${archive}`, ...args], env);
    expect(r.code, r.stderr).toBe(0);
    return unpack(archive, work.path, name);
  };
  const echoArg = `${BASE_STAGE}\nFROM base\nARG GREETING\nRUN echo "[$GREETING]" > /out.txt\n`;

  beforeAll(() => mkdirSync(work.path, { recursive: true }));
  afterAll(() => {
    store.cleanup();
    work.cleanup();
  });

  it("--build-arg NAME takes the value from the environment, and stays unset when it has none", () => {
    const ctx = context({ Dockerfile: echoArg });
    const fromEnv = rootfsOf(["--build-arg", "GREETING", ctx], { GREETING: "from env" });
    expect(readFileSync(join(fromEnv, "out.txt"), "utf8")).toBe("[from env]\n");
    const unset = rootfsOf(["--build-arg", "GREETING", ctx], { GREETING: undefined });
    expect(readFileSync(join(unset, "out.txt"), "utf8")).toBe("[]\n");
  });

  it("-f - reads the Dockerfile from stdin; -f may name a file outside the context", () => {
    const ctx = context({ "a.txt": "in the context\n" });
    const r = spawnSync(TSBUILD, ["build", "-t", "stdin:1", "--progress", "plain", "-f", "-", ctx], {
      input: "FROM scratch\nCOPY a.txt /from-stdin.txt\n",
      env: { ...process.env, TSBUILD_ROOT: store.path },
      encoding: "utf8",
    });
    expect(r.status, r.stderr).toBe(0);
    const inspected = JSON.parse(tsbuild(["inspect", "stdin:1"], { root: store.path }).stdout);
    expect(inspected.config.history.at(-1).created_by).toBe("COPY a.txt /from-stdin.txt");

    const outside = join(work.path, "elsewhere.Dockerfile");
    writeFileSync(outside, "FROM scratch\nCOPY a.txt /outside.txt\n");
    expect(readFileSync(join(rootfsOf(["-f", outside, ctx]), "outside.txt"), "utf8")).toBe(
      "in the context\n",
    );
  });

  it("--pull as a bare flag before the context does not swallow it", () => {
    const ctx = context({ Dockerfile: "FROM scratch\nCOPY Dockerfile /d\n" });
    const r = run(["--pull", ctx]);
    expect(r.code, r.stderr).toBe(0);
  });

  it("--flag=true|false booleans, as docker spells them", () => {
    const ctx = context({ Dockerfile: `${BASE_STAGE}\nFROM base\nRUN echo once > /x\n` });
    expect(run([ctx]).code).toBe(0);
    expect(rebuilt(run(["--no-cache=false", ctx]).stderr)).toEqual([]);
    expect(rebuilt(run(["--no-cache=true", ctx]).stderr)).toContain("RUN echo once > /x");
    const bad = run(["--no-cache=maybe", ctx]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--no-cache=maybe");
    expect(tsbuild(["prune", "-af"], { root: store.path }).code).toBe(0);
  });

  it("Containerfile and .containerignore when there is no Dockerfile or .dockerignore (as buildah)", () => {
    const ctx = context({
      Containerfile: "FROM scratch\nCOPY . /ctx/\n",
      ".containerignore": "secret.txt\n",
      "keep.txt": "kept\n",
      "secret.txt": "ignored\n",
    });
    const rootfs = rootfsOf([ctx]);
    expect(readFileSync(join(rootfs, "ctx/keep.txt"), "utf8")).toBe("kept\n");
    expect(() => readFileSync(join(rootfs, "ctx/secret.txt"))).toThrow();
    // A Dockerfile beside it wins.
    writeFileSync(join(ctx, "Dockerfile"), "FROM scratch\nCOPY keep.txt /from-dockerfile.txt\n");
    expect(readFileSync(join(rootfsOf([ctx]), "from-dockerfile.txt"), "utf8")).toBe("kept\n");
    rmSync(join(ctx, "Dockerfile"));
  });

  it("# check=error=true makes a build check fail the build, before anything runs", () => {
    const body = `${BASE_STAGE}\nFROM base\nRUN echo never > /x\nCMD echo hi\n`;
    const warned = run(["-t", "checked:1", context({ Dockerfile: body })]);
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stderr).toContain("JSONArgsRecommended");
    const failed = run(["-t", "checked:1", context({ Dockerfile: `# check=error=true\n${body}` })]);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(
      /Dockerfile:\d+:\d+: 1 build check\(s\) failed with check=error=true \(JSONArgsRecommended\)/,
    );
    expect(failed.stderr).not.toContain("RUN echo never");
  });

  it("# syntax= naming another frontend warns that it is not used; docker/dockerfile does not", () => {
    const other = run([context({ Dockerfile: "# syntax=example.com/my/frontend:2\nFROM scratch\n" })]);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stderr).toContain(
      "# syntax=example.com/my/frontend:2: tsbuild does not run frontend images",
    );
    const own = run([context({ Dockerfile: "# syntax=docker/dockerfile:1.7\nFROM scratch\n" })]);
    expect(own.code, own.stderr).toBe(0);
    expect(own.stderr).not.toContain("syntax=");
  });

  it("-t is checked before the build starts", () => {
    const r = run(["-t", "Bad:Name!", context({ Dockerfile: `${BASE_STAGE}\nRUN echo x\n` })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("-t Bad:Name!: invalid reference format");
    expect(r.stderr).not.toContain("#1");
  });
});
