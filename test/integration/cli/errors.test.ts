// What a user sees when the command line or the environment is wrong: one error line, exit 2, and
// with --debug what caused it.
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir, tsbuild } from "../../helpers/tsbuild.js";

let work: ReturnType<typeof tempDir>;
let ctx: string;
beforeAll(() => {
  work = tempDir("cli-errors");
  ctx = join(work.path, "ctx");
  mkdirSync(ctx);
  writeFileSync(join(ctx, "Dockerfile"), "FROM scratch\nCOPY Dockerfile /\n");
});
afterAll(() => work.cleanup());

describe("bad input gets one clear line and exit 2", () => {
  it("refuses a SOURCE_DATE_EPOCH that is not whole seconds (it reached tar headers as NaN)", () => {
    for (const value of ["abc", "1.5", "-3", "12abc"]) {
      const r = tsbuild(["build", ctx], {
        root: join(work.path, "store"),
        env: { SOURCE_DATE_EPOCH: value },
      });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toBe(
        `error: SOURCE_DATE_EPOCH=${value}: expected a whole number of seconds since 1970\n`,
      );
    }
    const ok = tsbuild(["build", ctx], { root: join(work.path, "store"), env: { SOURCE_DATE_EPOCH: "0" } });
    expect(ok.code, ok.stderr).toBe(0);
  });

  it("prints what caused an error only with --debug (or TSBUILD_DEBUG=1)", () => {
    const args = ["build", "-f", join(ctx, "missing"), ctx];
    const plain = tsbuild(args, { root: join(work.path, "store") });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/^error: Dockerfile .*missing: no such file\n$/);
    for (const r of [
      tsbuild(["--debug", ...args], { root: join(work.path, "store") }),
      tsbuild(args, { root: join(work.path, "store"), env: { TSBUILD_DEBUG: "1" } }),
    ]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("debug: UsageError: Dockerfile");
      expect(r.stderr).toMatch(/debug: Error: ENOENT: no such file or directory, open '.*missing'/);
    }
  });

  it("fails at once on a store path it cannot use (it spun forever on /proc/x, and printed a stack for a file)", () => {
    writeFileSync(join(work.path, "a-file"), "");
    for (const [root, why] of [
      ["/proc/x", "cannot create /proc/x: its parent does not take new directories"],
      [join(work.path, "a-file"), `${join(work.path, "a-file")} is not a directory`],
    ]) {
      const r = tsbuild(["images"], { root: root! });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toBe(`error: store ${root}: ${why}\n`);
    }
  });
});

describe("a failed step or base is one line naming its Dockerfile line, exit 1, no JavaScript frames", () => {
  it("RUN with no shell in the rootfs", () => {
    const dir = join(work.path, "noshell");
    mkdirSync(dir);
    writeFileSync(join(dir, "Dockerfile"), "FROM scratch\nRUN echo hi\n");
    const r = tsbuild(["build", "--progress", "plain", dir], { root: join(work.path, "store") });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "\nerror: Dockerfile:2: RUN echo hi: tsbuild-sandbox: exec '/bin/sh': No such file or directory",
    );
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it("a base image whose layer cannot be unpacked fails the build (exit 1), not the Dockerfile (exit 2)", () => {
    const root = join(work.path, "store-unpack");
    const base = join(work.path, "base");
    mkdirSync(base);
    writeFileSync(join(base, "Dockerfile"), "FROM scratch\nCOPY Dockerfile /f\n");
    expect(tsbuild(["build", "-t", "base:1", base], { root }).code).toBe(0);
    // The layer was never unpacked in a fresh snapshotter, and its blob no longer matches its digest.
    rmSync(join(root, "snapshots"), { recursive: true, force: true });
    const index = JSON.parse(readFileSync(join(root, "index.json"), "utf8"));
    const manifest = JSON.parse(
      readFileSync(join(root, "blobs", "sha256", index.manifests[0].digest.slice(7)), "utf8"),
    );
    const layer = join(root, "blobs", "sha256", manifest.layers[0].digest.slice(7));
    chmodSync(layer, 0o644);
    writeFileSync(layer, "not the layer");
    const child = join(work.path, "child");
    mkdirSync(child);
    writeFileSync(join(child, "Dockerfile"), "FROM base:1\nCOPY Dockerfile /g\n");
    const r = tsbuild(["build", child], { root });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /^error: Dockerfile:1: FROM base:1: image docker.io\/library\/base:1: layer sha256:/,
    );
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it("checks every argument before any work starts (issue 19 #11)", () => {
    const root = join(work.path, "store-args");
    const cases: [string[], string][] = [
      [
        ["build", "-f", ctx, ctx],
        `error: Dockerfile ${ctx}: is a directory (-f takes the Dockerfile itself; the context is the last argument)\n`,
      ],
      [
        ["build", "--secret", "id=s,src=/nonexistent", ctx],
        "error: --secret id=s,src=/nonexistent: /nonexistent: no such file\n",
      ],
      [
        ["build", "--secret", "id=s,src=/etc/hostname,mode=0400", ctx],
        "error: --secret id=s,src=/etc/hostname,mode=0400: unknown key mode (expected id, src, source, env, type)\n",
      ],
      [
        ["build", "--secret", "id=s,type=ssh", ctx],
        "error: --secret id=s,type=ssh: type=ssh: expected file or env\n",
      ],
      [
        ["build", "--no-such-flag", ctx],
        "error: unknown option '--no-such-flag'\n(see `tsbuild help <command>` or `--help` for usage)\n",
      ],
      [
        ["frobnicate"],
        "error: unknown command 'frobnicate' (and no directory of that name to build): see `tsbuild --help`\n",
      ],
      [
        ["history", "--help"],
        "error: unknown command 'history' (and no directory of that name to build): see `tsbuild --help`\n",
      ],
    ];
    for (const [args, stderr] of cases) {
      const r = tsbuild(args, { root });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toBe(stderr);
    }
  });
});
