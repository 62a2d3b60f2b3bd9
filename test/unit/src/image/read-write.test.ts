import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readImage } from "../../../../src/image/read.js";
import { writeImage } from "../../../../src/image/write.js";
import { sha256 } from "../../../../src/oci/digest.js";
import { type ImageConfig, MediaType } from "../../../../src/oci/types.js";
import { openContentStore } from "../../../../src/store/content.js";
import type { ContentStore } from "../../../../src/store/types.js";
import { verifyStore } from "../../../../src/store/verify.js";

let root: string;
let store: ContentStore;
beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "tsbuild-image-"));
  store = await openContentStore(root);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function sampleImage() {
  const layer = await store.writeBlob("pretend this is a gzip tar");
  const config: ImageConfig = {
    os: "linux",
    architecture: "amd64",
    config: { Env: ["PATH=/bin"], Cmd: ["/hello"], Labels: { z: "1", a: "2" } },
    rootfs: { type: "layers", diff_ids: [sha256("pretend this is a tar")] },
  };
  const layers = [{ mediaType: MediaType.layerGzip, ...layer }];
  return { config, layers, manifest: await writeImage(store, { config, layers }) };
}

describe("writeImage / readImage", () => {
  it("round-trips an image through canonical JSON blobs", async () => {
    const { config, layers, manifest } = await sampleImage();
    expect(manifest.mediaType).toBe(MediaType.imageManifest);
    const raw = await store.readBlob(manifest.digest);
    expect(manifest.size).toBe(raw.length);
    expect(raw.toString()).toMatch(/^\{"config":\{"digest":"sha256:[0-9a-f]{64}","mediaType":/);
    const read = await readImage(store, manifest.digest);
    expect(read.config).toEqual(config);
    expect(read.manifest.layers).toEqual(layers);
    expect(read.configDescriptor.mediaType).toBe(MediaType.imageConfig);
    expect((await store.readBlob(read.configDescriptor.digest)).toString()).toContain(
      '"Labels":{"a":"2","z":"1"}',
    );
  });

  it("gives the same digest whatever order the fields were set in", async () => {
    const { config, layers, manifest } = await sampleImage();
    const reordered = JSON.parse(JSON.stringify({ rootfs: config.rootfs, ...config })) as ImageConfig;
    expect(await writeImage(store, { config: reordered, layers })).toEqual(manifest);
  });

  it("reads Docker schema 2 manifests", async () => {
    const cfg = await store.writeBlob(
      JSON.stringify({
        os: "linux",
        architecture: "arm64",
        config: {},
        rootfs: { type: "layers", diff_ids: [] },
      }),
    );
    const m = await store.writeBlob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.dockerManifest,
        config: { mediaType: MediaType.dockerConfig, ...cfg },
        layers: [],
      }),
    );
    const read = await readImage(store, m.digest);
    expect(read.config.architecture).toBe("arm64");
    expect(read.manifest.mediaType).toBe(MediaType.dockerManifest);
  });

  it("names the manifest it cannot read", async () => {
    const idx = await store.writeBlob(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.imageIndex, manifests: [] }),
    );
    await expect(readImage(store, idx.digest)).rejects.toThrow(`manifest ${idx.digest}: is an image index`);
    const missing = sha256("nothing");
    await expect(readImage(store, missing)).rejects.toThrow(`blob ${missing}: not found`);
  });

  it("refuses a config whose diff ids do not match the layers", async () => {
    const { config } = await sampleImage();
    await expect(writeImage(store, { config, layers: [] })).rejects.toThrow(/1 diff ids for 0 layers/);
  });
});

describe("verifyStore", () => {
  it("passes a sound store, then finds a corrupt and a missing blob", async () => {
    const { layers, manifest } = await sampleImage();
    await store.setImage("hello:1", manifest);
    expect(await verifyStore(store)).toEqual({ checked: 3, bad: [] });

    const layerPath = store.blobPath(layers[0]!.digest);
    chmodSync(layerPath, 0o644);
    writeFileSync(layerPath, "bit rot");
    expect((await verifyStore(store)).bad).toEqual([
      `${layers[0]!.digest}: content does not match its digest`,
    ]);

    rmSync(layerPath);
    const res = await verifyStore(store);
    expect(res.checked).toBe(2);
    expect(res.bad).toEqual([`${layers[0]!.digest}: missing (referenced by image hello:1)`]);
  });
});
