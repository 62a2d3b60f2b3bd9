// The same exchange through an OCI layout directory: A writes it (--cache-to type=local,dest=DIR),
// B, empty, reads it (--cache-from type=local,src=DIR) and copies in only the layers its hits need.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../../helpers/tsbuild.js";
import { build, hasBlob, imageDigest, imageLayers, writeContext } from "./fixture.js";

describe("remote cache through an OCI layout directory", () => {
  const work = tempDir("lcache");
  const dirs = ["a", "b1", "b2"].map((n) => tempDir(`lcache-${n}`));
  const [storeA, storeB1, storeB2] = dirs.map((d) => d.path) as [string, string, string];
  const context = join(work.path, "ctx");
  const cacheDir = join(work.path, "cache");

  beforeAll(() => writeContext(context));
  afterAll(() => {
    for (const d of [...dirs, work]) d.cleanup();
  });

  it("A exports an OCI layout with the cache manifest under the tag", () => {
    build(storeA, context, ["-t", "app:1", "--cache-to", `type=local,dest=${cacheDir},mode=max,tag=v1`]);
    expect(existsSync(join(cacheDir, "oci-layout"))).toBe(true);
    const index = JSON.parse(readFileSync(join(cacheDir, "index.json"), "utf8"));
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0].annotations["org.opencontainers.image.ref.name"]).toBe("v1");
    // 8 layers (5 in the image, 3 more in the builder stage), the config and the manifest.
    expect(readdirSync(join(cacheDir, "blobs", "sha256"))).toHaveLength(10);
  });

  it("B, empty, builds --target builder: all cached, the final stage's layers are not copied in", () => {
    const r = build(storeB1, context, [
      "-t",
      "builder:1",
      "--target",
      "builder",
      "--cache-from",
      `type=local,src=${cacheDir},tag=v1`,
    ]);
    expect(r.steps).toHaveLength(5);
    expect(r.steps.every((s) => s.outcome === "CACHED")).toBe(true);
    build(storeA, context, ["-t", "builder:1", "--target", "builder"]);
    expect(imageDigest(storeB1, "builder:1")).toBe(imageDigest(storeA, "builder:1"));
    const builderLayers = imageLayers(storeA, "builder:1");
    const finalOnly = imageLayers(storeA, "app:1").filter((l) => !builderLayers.includes(l));
    expect(finalOnly).toHaveLength(3);
    for (const l of builderLayers) expect(hasBlob(storeB1, l)).toBe(true);
    for (const l of finalOnly) expect(hasBlob(storeB1, l)).toBe(false);
  });

  it("B, empty, builds the final stage: every step cached and the same image digest", () => {
    const r = build(storeB2, context, ["-t", "app:1", "--cache-from", `type=local,src=${cacheDir},tag=v1`]);
    expect(r.steps).toHaveLength(8);
    expect(r.steps.every((s) => s.outcome === "CACHED")).toBe(true);
    expect(imageDigest(storeB2, "app:1")).toBe(imageDigest(storeA, "app:1"));
    // A second build on B needs no import for the target's steps; the builder stage, whose layers
    // were never copied in (COPY --from hit on the cache's checksum), runs again, to the same image.
    const again = build(storeB2, context, ["-t", "app:1"]);
    const outcomes = Object.fromEntries(again.steps.map((s) => [`${s.name.split("]")[0]}]`, s.outcome]));
    expect(outcomes).toEqual({
      "[base 1/2]": "CACHED",
      "[base 2/2]": "CACHED",
      "[builder 1/3]": "DONE",
      "[builder 2/3]": "DONE",
      "[builder 3/3]": "DONE",
      "[final 1/3]": "CACHED",
      "[final 2/3]": "CACHED",
      "[final 3/3]": "CACHED",
    });
    expect(imageDigest(storeB2, "app:1")).toBe(imageDigest(storeA, "app:1"));
  });
});
