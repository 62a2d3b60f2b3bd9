// bin/tsbuild starts node from the build's start-up snapshot (dist/bundle/main.blob) when it may, else
// runs the bundle plainly. Both ways must behave the same, and a stale snapshot must never be used.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO, tempDir, tsbuild } from "../../helpers/tsbuild.js";

const BLOB = join(REPO, "dist/bundle/main.blob");

/** The node command line bin/tsbuild ends with, read back through a stub `node` first on the PATH. */
function nodeArgsChosenBy(tsbuildBin: string, env: NodeJS.ProcessEnv = {}): string[] {
  const stubDir = tempDir("node-stub");
  try {
    const stub = join(stubDir.path, "node");
    writeFileSync(stub, '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n', { mode: 0o755 });
    // Older than any real snapshot, newer than the stale one below.
    utimesSync(stub, new Date(1_000_000), new Date(1_000_000));
    const r = spawnSync(tsbuildBin, ["--version"], {
      env: { ...process.env, PATH: `${stubDir.path}:${process.env.PATH}`, ...env },
      encoding: "utf8",
    });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.trim().split("\n");
  } finally {
    stubDir.cleanup();
  }
}

describe("CLI start-up snapshot", () => {
  const store = tempDir("startup");
  afterAll(() => store.cleanup());

  it("is used by bin/tsbuild, and TSBUILD_NO_SNAPSHOT=1 runs the plain bundle", () => {
    expect(nodeArgsChosenBy(join(REPO, "bin/tsbuild"))).toEqual([
      "--min-semi-space-size=16",
      "--snapshot-blob",
      BLOB,
      "--",
      "--version",
    ]);
    expect(nodeArgsChosenBy(join(REPO, "bin/tsbuild"), { TSBUILD_NO_SNAPSHOT: "1" })).toEqual([
      "--min-semi-space-size=16",
      join(REPO, "dist/bundle/main.cjs"),
      "--version",
    ]);
  });

  it("is not used when it is older than the node binary (a snapshot loads only into its own node)", () => {
    const copy = tempDir("stale-blob");
    try {
      mkdirSync(join(copy.path, "bin"));
      cpSync(join(REPO, "bin/tsbuild"), join(copy.path, "bin/tsbuild"));
      cpSync(join(REPO, "dist/bundle"), join(copy.path, "dist/bundle"), { recursive: true });
      utimesSync(join(copy.path, "dist/bundle/main.blob"), new Date(0), new Date(0));
      expect(nodeArgsChosenBy(join(copy.path, "bin/tsbuild"))).toEqual([
        "--min-semi-space-size=16",
        join(copy.path, "dist/bundle/main.cjs"),
        "--version",
      ]);
    } finally {
      copy.cleanup();
    }
  });

  it("gives the same results either way, with this machine's defaults rather than the build's", () => {
    const ctx = tempDir("startup-ctx");
    try {
      writeFileSync(join(ctx.path, "Dockerfile"), "FROM scratch\nCOPY a.txt /a.txt\n");
      writeFileSync(join(ctx.path, "a.txt"), "hello\n");
      const snap = tsbuild(["-t", "startup:1", ctx.path], { root: store.path });
      expect(snap.code, snap.stderr).toBe(0);
      const plain = tsbuild(["-t", "startup:2", ctx.path], {
        root: store.path,
        env: { TSBUILD_NO_SNAPSHOT: "1" },
      });
      expect(plain.code, plain.stderr).toBe(0);
      const digest = (name: string): string =>
        JSON.parse(tsbuild(["inspect", name], { root: store.path }).stdout).descriptor.digest;
      expect(digest("startup:1")).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(digest("startup:1")).toBe(digest("startup:2"));

      const help = tsbuild(["build", "--help"], { root: store.path });
      expect(help.stdout).toContain(`(default: "${availableParallelism()}")`);
    } finally {
      ctx.cleanup();
    }
  });

  it("finds the native parts next to the snapshot, not where it was built", () => {
    // A copy of the package whose native/build holds the addon (store locks use it) and a stub
    // launcher that fails in its own way.
    const copy = tempDir("moved");
    try {
      mkdirSync(join(copy.path, "bin"));
      cpSync(join(REPO, "bin/tsbuild"), join(copy.path, "bin/tsbuild"));
      cpSync(join(REPO, "dist/bundle"), join(copy.path, "dist/bundle"), {
        recursive: true,
        preserveTimestamps: true,
      });
      cpSync(join(REPO, "package.json"), join(copy.path, "package.json"));
      symlinkSync(join(REPO, "node_modules"), join(copy.path, "node_modules"));
      mkdirSync(join(copy.path, "native/build"), { recursive: true });
      cpSync(
        join(REPO, "native/build/tsbuild_native.node"),
        join(copy.path, "native/build/tsbuild_native.node"),
      );
      writeFileSync(
        join(copy.path, "native/build/tsbuild-sandbox"),
        "#!/bin/sh\necho moved-launcher >&2\nexit 125\n",
        {
          mode: 0o755,
        },
      );
      const ctx = join(copy.path, "ctx");
      mkdirSync(ctx);
      writeFileSync(join(ctx, "Dockerfile"), 'FROM scratch\nRUN ["/nothing"]\n');
      const r = spawnSync(join(copy.path, "bin/tsbuild"), ["-t", "moved:1", ctx], {
        env: { ...process.env, TSBUILD_ROOT: join(copy.path, "store") },
        encoding: "utf8",
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("moved-launcher");
    } finally {
      copy.cleanup();
    }
  });
});
