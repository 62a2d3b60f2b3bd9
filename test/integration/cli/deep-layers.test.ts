// 600 layers (issue 19 #4): past overlay's 500 lower directories (and buildah's 128), the build
// goes on; the image keeps all 600 layers, an outside unpacker sees the 600 directories, and a warm
// rebuild hits every step.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stepOutcomes, tempDir, tsbuild } from "../../helpers/tsbuild.js";

const LAYERS = 600;

describe(`a Dockerfile of ${LAYERS} layers`, () => {
  const store = tempDir("deep-store");
  const work = tempDir("deep-work");
  afterAll(() => {
    store.cleanup();
    work.cleanup();
  });

  it("builds, unpacks with umoci to every directory, and rebuilds from the cache", () => {
    const ctx = join(work.path, "ctx");
    mkdirSync(ctx);
    const lines = ["FROM scratch", ...Array.from({ length: LAYERS }, (_, i) => `WORKDIR /w${i}`)];
    writeFileSync(join(ctx, "Dockerfile"), `${lines.join("\n")}\n`);
    const cold = tsbuild(["build", "-t", "deep:1", "--progress", "plain", ctx], { root: store.path });
    expect(cold.code, cold.stderr.slice(-2000)).toBe(0);
    const inspected = JSON.parse(tsbuild(["inspect", "deep:1"], { root: store.path }).stdout);
    expect(inspected.manifest.layers).toHaveLength(LAYERS);

    const archive = join(work.path, "deep.tar");
    expect(tsbuild(["save", "deep:1", "-o", archive], { root: store.path }).code).toBe(0);
    const layout = join(work.path, "layout");
    mkdirSync(layout);
    expect(spawnSync("tar", ["-xf", archive, "-C", layout]).status).toBe(0);
    const ref = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")).manifests[0].annotations[
      "org.opencontainers.image.ref.name"
    ];
    const bundle = join(work.path, "bundle");
    const unpack = spawnSync("umoci", ["unpack", "--image", `${layout}:${ref}`, bundle], {
      encoding: "utf8",
    });
    expect(unpack.status, unpack.stderr).toBe(0);
    const dirs = readdirSync(join(bundle, "rootfs")).filter((d) => /^w\d+$/.test(d));
    expect(dirs.sort()).toEqual(Array.from({ length: LAYERS }, (_, i) => `w${i}`).sort());

    const warm = tsbuild(["build", "-t", "deep:1", "--progress", "plain", ctx], { root: store.path });
    expect(warm.code, warm.stderr.slice(-2000)).toBe(0);
    const outcomes = stepOutcomes(warm.stderr).map((s) => s.outcome);
    expect(outcomes).toHaveLength(LAYERS);
    expect(outcomes.every((o) => o === "CACHED")).toBe(true);
    expect(tsbuild(["verify"], { root: store.path }).code).toBe(0);
  }, 180_000);
});
