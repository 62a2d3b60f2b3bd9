// Two "machines" (two store roots) share their build cache through a real registry: A builds and
// exports (--cache-to type=registry), B starts empty and imports (--cache-from). Every blob B fetches
// goes through a logging proxy, so the test sees exactly which layers B downloaded, and when.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningRegistry, startRegistry } from "../../../helpers/registry.js";
import { tempDir, tsbuild } from "../../../helpers/tsbuild.js";
import { build, copyContext, hasBlob, imageDigest, imageLayers, writeContext } from "./fixture.js";
import { type LoggingProxy, startLoggingProxy } from "./logging-proxy.js";

describe("remote cache through a registry", () => {
  const work = tempDir("rcache-ctx");
  const stores: { path: string; cleanup: () => void }[] = [];
  const store = (name: string) => {
    const d = tempDir(`rcache-${name}`);
    stores.push(d);
    return d.path;
  };
  const context = join(work.path, "ctx");
  let registry: RunningRegistry;
  let proxy: LoggingProxy;
  let cacheRef: string;
  let storeA: string;
  let finalLayers: string[];
  let builderLayers: string[];
  let cacheConfigDigest: string;
  let cacheLayers: string[];

  beforeAll(async () => {
    registry = await startRegistry();
    proxy = await startLoggingProxy(registry.port);
    cacheRef = `${proxy.host}/cache/app:buildcache`;
    writeContext(context);
    storeA = store("a");
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
    for (const d of [...stores, work]) d.cleanup();
  });

  const cacheManifest = async (tag: string) => {
    const res = await fetch(`http://${registry.host}/v2/cache/app/manifests/${tag}`, {
      headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as {
      config: { mediaType: string; digest: string };
      layers: { digest: string }[];
    };
  };

  it("A builds and exports every step (mode=max) to the registry", async () => {
    const a = build(storeA, context, ["-t", "app:1", "--cache-to", `type=registry,ref=${cacheRef},mode=max`]);
    expect(a.steps.every((s) => s.outcome === "DONE")).toBe(true);
    expect(a.stderr).toContain(`exporting cache to ${cacheRef} (mode=max): 8 records, 8 layers`);
    finalLayers = imageLayers(storeA, "app:1");
    // The builder stage's image, for reference (all cached on A, no export).
    build(storeA, context, ["-t", "builder:1", "--target", "builder"]);
    builderLayers = imageLayers(storeA, "builder:1");
    const m = await cacheManifest("buildcache");
    expect(m.config.mediaType).toBe("application/vnd.tsbuild.cache.config.v1+json");
    cacheConfigDigest = m.config.digest;
    cacheLayers = m.layers.map((l) => l.digest);
    expect(new Set(cacheLayers)).toEqual(new Set([...finalLayers, ...builderLayers]));
    expect(finalLayers).toHaveLength(5);
    expect(builderLayers).toHaveLength(5);
  });

  it("B, empty, builds --target builder: all cached, no layer of the final stage fetched", () => {
    const b = store("b-builder");
    proxy.reset();
    const r = build(b, context, [
      "-t",
      "builder:1",
      "--target",
      "builder",
      "--cache-from",
      `type=registry,ref=${cacheRef}`,
    ]);
    expect(r.steps).toHaveLength(5);
    expect(r.steps.every((s) => s.outcome === "CACHED")).toBe(true);
    expect(imageDigest(b, "builder:1")).toBe(imageDigest(storeA, "builder:1"));
    const gets = proxy.blobGets();
    // Each needed blob once: the cache config, then only the builder image's layers.
    expect(gets.sort()).toEqual([cacheConfigDigest, ...builderLayers].sort());
    const finalOnly = finalLayers.filter((l) => !builderLayers.includes(l));
    expect(finalOnly).toHaveLength(3);
    for (const l of finalOnly) {
      expect(gets).not.toContain(l);
      expect(hasBlob(b, l)).toBe(false);
    }
  });

  it("B, empty, builds the final stage: every step cached, the same image, only its layers fetched", () => {
    const b = store("b-final");
    proxy.reset();
    const r = build(b, context, ["-t", "app:1", "--cache-from", `type=registry,ref=${cacheRef}`]);
    expect(r.steps).toHaveLength(8);
    expect(r.steps.every((s) => s.outcome === "CACHED")).toBe(true);
    expect(imageDigest(b, "app:1")).toBe(imageDigest(storeA, "app:1"));
    const gets = proxy.blobGets();
    expect(new Set(gets).size).toBe(gets.length);
    // The image's layers only: COPY --from=builder hits on the checksum the cache carries, so the
    // builder stage's own layers are never fetched.
    expect(new Set(gets)).toEqual(new Set([cacheConfigDigest, ...finalLayers]));
    for (const l of builderLayers.filter((l) => !finalLayers.includes(l))) expect(hasBlob(b, l)).toBe(false);
    // Nothing is written to the registry by an import.
    expect(proxy.log().filter((l) => !l.startsWith("GET ") && !l.startsWith("HEAD "))).toEqual([]);
  });

  it("a changed file in B's context: that COPY and the steps after it miss, the rest hit, missed layers are not fetched", () => {
    const changed = join(work.path, "changed");
    copyContext(context, changed);
    writeFileSync(join(changed, "app.txt"), "app, changed\n");
    const b = store("b-changed");
    proxy.reset();
    const r = build(b, changed, ["-t", "app:2", "--cache-from", `type=registry,ref=${cacheRef}`]);
    const outcome = (prefix: string) => r.steps.find((s) => s.name.startsWith(prefix))?.outcome;
    expect(r.steps).toHaveLength(8);
    for (const hit of [
      "[base 1/2]",
      "[base 2/2]",
      "[builder 1/3]",
      "[builder 2/3]",
      "[builder 3/3]",
      "[final 1/3]",
    ])
      expect(outcome(hit), hit).toBe("CACHED");
    expect(outcome("[final 2/3]")).toBe("DONE");
    expect(outcome("[final 3/3]")).toBe("DONE");
    const gets = proxy.blobGets();
    // The two layers of A's final steps that B rebuilt are never downloaded.
    for (const l of finalLayers.slice(3)) expect(gets).not.toContain(l);
    // What the rebuilt steps stand on (base and the COPY --from layer); not the builder stage's own.
    expect(new Set(gets)).toEqual(new Set([cacheConfigDigest, ...finalLayers.slice(0, 3)]));
  });

  it("mode=min exports only the target's chain; a missing cache is a warning, not a failure", async () => {
    build(storeA, context, ["-t", "app:1", "--cache-to", `type=registry,ref=${proxy.host}/cache/app:min`]);
    const m = await cacheManifest("min");
    expect(new Set(m.layers.map((l) => l.digest))).toEqual(new Set(finalLayers));
    const b = store("b-missing");
    const r = build(b, context, ["--target", "base", "--cache-from", `${proxy.host}/cache/app:nothing-here`]);
    expect(r.stderr).toMatch(/cache .*nothing-here: not found, building without it/);
    expect(r.steps.every((s) => s.outcome === "DONE")).toBe(true);
  });

  it("rejects malformed specs with a usage error", () => {
    const root = store("usage");
    for (const spec of ["type=registry", "type=s3,bucket=x", "type=registry,ref=a/b:c,mode=all"]) {
      const r = tsbuild(["build", "--cache-to", spec, context], { root });
      expect(r.code, spec).toBe(2);
      expect(r.stderr).toContain(`--cache-to ${spec}`);
    }
    const r = tsbuild(["build", "--cache-from", "type=local", context], { root });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("type=local needs src=DIR");
  });
});
