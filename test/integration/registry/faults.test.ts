import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { referencedBlobs } from "../../../src/image/walk.js";
import { sha256 } from "../../../src/oci/digest.js";
import { normalizeImageName } from "../../../src/oci/reference.js";
import { pullImage } from "../../../src/registry/pull.js";
import { pushImage } from "../../../src/registry/push.js";
import { openContentStore } from "../../../src/store/content.js";
import { type RunningRegistry, fetchedBlobDigest, startRegistry } from "../../helpers/registry.js";
import { type FaultProxy, startFaultProxy } from "./fault-proxy.js";
import { makeImage } from "./fixtures.js";

describe("registry faults", () => {
  let registry: RunningRegistry;
  let proxy: FaultProxy;
  let tmp: string;

  beforeAll(async () => {
    registry = await startRegistry();
    tmp = mkdtempSync(join(tmpdir(), "tsbuild-faults-"));
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("push survives a reset mid-blob and a 503; the registry holds exactly the right blobs", async () => {
    proxy = await startFaultProxy(registry.port, {
      resetUploadAfter: 1 << 20,
      resetDownloadAfter: 1 << 20,
      unavailable: (method, path) => method === "PUT" && path.includes("/manifests/"),
    });
    const store = await openContentStore(join(tmp, "a"));
    const manifest = await makeImage(store, normalizeImageName("f:1"), [
      { files: { small: "x" } },
      { files: { big: "y" }, random: 6 << 20 },
      { files: { bigger: "z" }, random: 12 << 20 },
    ]);
    const dest = `${proxy.host}/faults/f:1`;
    const res = await pushImage(store, "f:1", dest, { chunkSize: 4 << 20 });
    expect(res.digest).toBe(manifest.digest);
    expect(proxy.fired).toMatchObject({ uploadReset: 1, unavailable: 1 });

    const { present } = await referencedBlobs(store, [manifest]);
    const expected = present.map((d) => d.digest).sort();
    expect(registry.storedBlobs()).toEqual(expected);
    // The registry keeps manifests among its blobs too, but serves them only under /manifests/.
    for (const d of expected.filter((x) => x !== manifest.digest)) {
      expect(await fetchedBlobDigest(registry.host, "faults/f", d)).toBe(d);
    }
    const served = await fetch(`http://${registry.host}/v2/faults/f/manifests/${manifest.digest}`, {
      headers: { accept: manifest.mediaType },
    });
    expect(sha256(Buffer.from(await served.arrayBuffer()))).toBe(manifest.digest);
  });

  it("pull survives a reset mid-blob and leaves no partial blob", async () => {
    const store = await openContentStore(join(tmp, "b"));
    const rec = await pullImage(store, `${proxy.host}/faults/f:1`);
    expect(proxy.fired.downloadReset).toBe(1);
    const { present, missing } = await referencedBlobs(store, [rec.target]);
    expect(missing).toEqual([]);
    for (const d of present) expect(await store.verify(d.digest)).toBe(true);
    expect(readdirSync(join(tmp, "b", "ingest"))).toEqual([]);
  });
});
