import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readImage } from "../../../src/image/read.js";
import { referencedBlobs } from "../../../src/image/walk.js";
import { normalizeImageName } from "../../../src/oci/reference.js";
import { MediaType } from "../../../src/oci/types.js";
import { pullImage } from "../../../src/registry/pull.js";
import { pushImage } from "../../../src/registry/push.js";
import { openContentStore } from "../../../src/store/content.js";
import type { ContentStore } from "../../../src/store/types.js";
import { type RunningRegistry, startRegistry } from "../../helpers/registry.js";
import { makeImage } from "./fixtures.js";

function skopeo(args: string[]): string {
  const r = spawnSync("skopeo", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`skopeo ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

describe("registry round trip", () => {
  let registry: RunningRegistry;
  let tmp: string;
  let storeA: ContentStore;

  beforeAll(async () => {
    registry = await startRegistry();
    tmp = mkdtempSync(join(tmpdir(), "tsbuild-rt-"));
    storeA = await openContentStore(join(tmp, "a"));
  });
  afterAll(async () => {
    await registry?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("push, then pull into an empty store gives the same manifest digest", async () => {
    const local = normalizeImageName("app:1");
    // One layer above the 8 MiB chunk size, so the chunked path runs too.
    const manifest = await makeImage(storeA, local, [
      { files: { "etc/hello": "hello\n" } },
      { files: { "data/readme": "big layer\n" }, random: 10 << 20 },
    ]);
    const dest = `${registry.host}/team/app:1`;
    const events: number[] = [];
    const pushed = await pushImage(storeA, "app:1", dest, {
      progress: { emit: (e) => e.type === "transfer" && events.push(e.current), close() {} },
    });
    expect(pushed.digest).toBe(manifest.digest);
    expect(pushed.blobs.map((b) => b.how)).toEqual(["uploaded", "uploaded", "uploaded"]);
    expect(events.length).toBeGreaterThan(3);

    const again = await pushImage(storeA, "app:1", dest);
    expect(again.blobs.every((b) => b.how === "exists")).toBe(true);

    const storeB = await openContentStore(join(tmp, "b"));
    const rec = await pullImage(storeB, dest);
    expect(rec.name).toBe(`${registry.host}/team/app:1`);
    expect(rec.target.digest).toBe(manifest.digest);
    const { missing, present } = await referencedBlobs(storeB, [rec.target]);
    expect(missing).toEqual([]);
    expect(present).toHaveLength(4);
    for (const d of present) expect(await storeB.verify(d.digest)).toBe(true);
    expect(readdirSync(join(tmp, "b", "ingest"))).toEqual([]);
  });

  it("skopeo inspects and copies what tsbuild pushed", () => {
    const ref = `docker://${registry.host}/team/app:1`;
    const info = JSON.parse(skopeo(["inspect", "--tls-verify=false", ref])) as { Layers: string[] };
    expect(info.Layers).toHaveLength(2);
    const archive = join(tmp, "app.tar");
    skopeo(["copy", "--src-tls-verify=false", ref, `oci-archive:${archive}`]);
    expect(existsSync(archive)).toBe(true);
  });

  it("mounts blobs from the source repository when pushing a pulled image elsewhere", async () => {
    const storeC = await openContentStore(join(tmp, "c"));
    await pullImage(storeC, `${registry.host}/team/app:1`);
    const res = await pushImage(storeC, `${registry.host}/team/app:1`, `${registry.host}/other/app:2`);
    expect(res.blobs.map((b) => b.how)).toEqual(["mounted", "mounted", "mounted"]);
  });

  it.each(["gzip", "zstd"])("pulls an image that skopeo pushed with %s layers", async (format) => {
    const src = join(tmp, `src-${format}`);
    const srcStore = await openContentStore(src);
    await makeImage(
      srcStore,
      "skopeo-src",
      [{ files: { [`etc/${format}`]: format } }, { files: { x: `y-${format}` } }],
      "none",
    );
    const dest = `${registry.host}/skopeo/${format}:1`;
    skopeo([
      "copy",
      "--dest-tls-verify=false",
      "--dest-compress-format",
      format,
      ...(format === "zstd" ? ["--dest-compress"] : []),
      `oci:${src}:skopeo-src`,
      `docker://${dest}`,
    ]);
    const store = await openContentStore(join(tmp, `pulled-${format}`));
    const rec = await pullImage(store, dest);
    const img = await readImage(store, rec.target.digest);
    const want = format === "zstd" ? MediaType.layerZstd : [MediaType.layerGzip, MediaType.dockerLayerGzip];
    for (const l of img.manifest.layers) {
      if (Array.isArray(want)) expect(want).toContain(l.mediaType);
      else expect(l.mediaType).toBe(want);
      expect(await store.verify(l.digest)).toBe(true);
    }
  });

  it("names the image in errors for a missing tag", async () => {
    const store = await openContentStore(join(tmp, "d"));
    await expect(pullImage(store, `${registry.host}/nope:1`)).rejects.toThrow(
      `pull ${registry.host}/nope:1: 404 manifest unknown`,
    );
  });
});
