// Regression tests for issue 11's first defect: the build settings that change a layer's bytes or the
// config (builder/cache/keys.ts KeyScope) are part of every step's key, so a record made under one
// setting is never served under another. Each case failed before the key scope existed.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir, tsbuild } from "../../helpers/tsbuild.js";
import { BASE_STAGE, BUSYBOX, rebuilt } from "./helpers.js";

interface Inspected {
  descriptor: { digest: string };
  manifest: { layers: { mediaType: string; digest: string }[] };
  config: { created?: string; history?: { created?: string; created_by?: string }[] };
}

describe("settings that change the output are part of the cache key", () => {
  const store = tempDir("scope-store");
  const work = tempDir("scope-work");
  const ctx = join(work.path, "ctx");
  const build = (extra: string[] = [], env: NodeJS.ProcessEnv = {}) => {
    const r = tsbuild(["build", "-t", "scope:1", ...BUSYBOX, "--progress", "plain", ...extra, ctx], {
      root: store.path,
      env: { SOURCE_DATE_EPOCH: "", ...env },
    });
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const inspect = (): Inspected =>
    JSON.parse(tsbuild(["inspect", "scope:1"], { root: store.path }).stdout) as Inspected;
  /** mtimes (seconds) of every entry of layer `i` of the image, read by GNU tar. */
  const layerTimes = (img: Inspected, i: number): number[] => {
    const blob = join(store.path, "blobs/sha256", img.manifest.layers[i]!.digest.slice(7));
    const r = spawnSync("tar", ["--full-time", "-tvzf", blob], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout
      .trim()
      .split("\n")
      .map((line) => {
        const m = /(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)/.exec(line);
        return Date.parse(`${m![1]!.replace(" ", "T")}Z`) / 1000;
      });
  };

  beforeAll(() => {
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, "a.txt"), "alpha\n");
    writeFileSync(
      join(ctx, "Dockerfile"),
      `${BASE_STAGE}\nFROM base\nCOPY a.txt /a.txt\nRUN echo made > /made.txt\nENV DONE=1\n`,
    );
  });
  afterAll(() => {
    store.cleanup();
    work.cleanup();
  });

  it("a zstd build's layers are not reused by a later gzip build (Docker 20.10 cannot pull zstd)", () => {
    build(["--compression", "zstd", "--no-cache"]);
    expect(inspect().manifest.layers.map((l) => l.mediaType)).toEqual(
      Array(4).fill("application/vnd.oci.image.layer.v1.tar+zstd"),
    );
    const gzip = build();
    expect(rebuilt(gzip.stderr).length).toBeGreaterThan(0);
    expect(inspect().manifest.layers.map((l) => l.mediaType)).toEqual(
      Array(4).fill("application/vnd.oci.image.layer.v1.tar+gzip"),
    );
    // And the gzip records serve the next gzip build.
    expect(rebuilt(build().stderr)).toEqual([]);
  });

  it("SOURCE_DATE_EPOCH after a normal build: the steps re-run, times are clamped, created is the epoch", () => {
    build();
    const before = inspect();
    expect(layerTimes(before, 3).some((t) => t > 0)).toBe(true);
    const clamped = build([], { SOURCE_DATE_EPOCH: "0" });
    expect(rebuilt(clamped.stderr).length).toBeGreaterThan(0);
    const img = inspect();
    expect(img.config.created).toBe("1970-01-01T00:00:00.000Z");
    expect(img.config.history!.map((h) => h.created)).toEqual(
      Array(img.config.history!.length).fill("1970-01-01T00:00:00.000Z"),
    );
    for (let i = 0; i < img.manifest.layers.length; i++) expect(Math.max(...layerTimes(img, i))).toBe(0);
  });

  it("--build-arg SOURCE_DATE_EPOCH sets the epoch as the variable does, and the digest repeats", () => {
    const arg = () => build(["--build-arg", "SOURCE_DATE_EPOCH=86400"]);
    arg();
    const first = inspect();
    expect(first.config.created).toBe("1970-01-02T00:00:00.000Z");
    // Made again from nothing (no cache), later: the same bytes, so the same digest.
    build(["--build-arg", "SOURCE_DATE_EPOCH=86400", "--no-cache"]);
    expect(inspect().descriptor.digest).toBe(first.descriptor.digest);
    // The variable with the same value gives that image too.
    build([], { SOURCE_DATE_EPOCH: "86400" });
    expect(inspect().descriptor.digest).toBe(first.descriptor.digest);
  });

  it("a bad --build-arg SOURCE_DATE_EPOCH is a usage error naming it", () => {
    const r = tsbuild(["build", ...BUSYBOX, "--build-arg", "SOURCE_DATE_EPOCH=soon", ctx], {
      root: store.path,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--build-arg SOURCE_DATE_EPOCH=soon");
  });
});
