// `tsbuild pull` as a user runs it: a multi-platform image that skopeo pushed (from an OCI layout
// written here), pulled by platform into empty stores, then built FROM without the network.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeImage } from "../../../src/image/write.js";
import { sha256 } from "../../../src/oci/digest.js";
import { type Descriptor, MediaType } from "../../../src/oci/types.js";
import { openContentStore } from "../../../src/store/content.js";
import { type RunningRegistry, startRegistry } from "../../helpers/registry.js";
import { tempDir, tsbuild } from "../../helpers/tsbuild.js";
import { tarOf } from "./fixtures.js";
import { gzipSync } from "node:zlib";

/** An OCI layout holding one index ("multi") of an amd64 and an arm64 image, each with /arch. */
async function writeMultiPlatformLayout(dir: string): Promise<Record<string, Descriptor>> {
  const store = await openContentStore(dir);
  const manifests: Record<string, Descriptor> = {};
  for (const arch of ["amd64", "arm64"]) {
    const tar = await tarOf({ arch: `${arch}\n` });
    const blob = gzipSync(tar);
    const layer = await store.writeBlob(blob);
    manifests[arch] = await writeImage(store, {
      config: {
        architecture: arch,
        os: "linux",
        config: { Cmd: ["cat", "/arch"] },
        rootfs: { type: "layers", diff_ids: [sha256(tar)] },
      },
      layers: [{ mediaType: MediaType.layerGzip, ...layer }],
    });
  }
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.imageIndex,
    manifests: Object.entries(manifests).map(([arch, d]) => ({
      ...d,
      platform: { os: "linux", architecture: arch },
    })),
  };
  const written = await store.writeBlob(JSON.stringify(index));
  writeFileSync(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: MediaType.imageIndex,
          ...written,
          annotations: { "org.opencontainers.image.ref.name": "multi" },
        },
      ],
    }),
  );
  return manifests;
}

describe("tsbuild pull", () => {
  let registry: RunningRegistry;
  const work = tempDir("pull-cli");
  let manifests: Record<string, Descriptor>;
  let image: string;

  beforeAll(async () => {
    registry = await startRegistry();
    const layout = join(work.path, "layout");
    manifests = await writeMultiPlatformLayout(layout);
    image = `${registry.host}/team/multi:1`;
    const r = spawnSync(
      "skopeo",
      ["copy", "--all", "--dest-tls-verify=false", `oci:${layout}:multi`, `docker://${image}`],
      { encoding: "utf8" },
    );
    if (r.status !== 0) throw new Error(`skopeo copy: ${r.stderr}`);
  });
  afterAll(async () => {
    await registry?.stop();
    work.cleanup();
  });

  it("pulls the machine's platform by default and another with --platform", () => {
    for (const [arch, args] of [
      ["amd64", []],
      ["arm64", ["--platform", "linux/arm64"]],
    ] as const) {
      const root = join(work.path, `store-${arch}`);
      const r = tsbuild(["pull", ...args, image], { root });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(`${image}: ${manifests[arch]!.digest}`);
      const listed = tsbuild(["images"], { root }).stdout;
      expect(listed).toContain(`${registry.host}/team/multi:1`);
      const inspected = JSON.parse(tsbuild(["inspect", image], { root }).stdout);
      expect(inspected.config.architecture).toBe(arch);
      expect(tsbuild(["verify"], { root }).code).toBe(0);
      // Pulling again finds everything in place and gives the same answer.
      expect(tsbuild(["pull", ...args, image], { root }).stdout).toBe(r.stdout);
    }
  });

  it("builds FROM the pulled image with --pull=never, on top of its layer", () => {
    const root = join(work.path, "store-amd64");
    const ctx = join(work.path, "ctx");
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, "Dockerfile"), `FROM ${image}\nCOPY note /note\n`);
    writeFileSync(join(ctx, "note"), "n\n");
    const out = join(work.path, "child.tar");
    const r = tsbuild(["build", "-t", "child:1", "--pull=never", "-o", `type=oci,dest=${out}`, ctx], {
      root,
    });
    expect(r.code, r.stderr).toBe(0);
    const sk = spawnSync("skopeo", ["inspect", "--raw", `oci-archive:${out}`], { encoding: "utf8" });
    expect(sk.status, sk.stderr).toBe(0);
    const layers = JSON.parse(sk.stdout).layers as { digest: string }[];
    const base = JSON.parse(tsbuild(["inspect", image], { root }).stdout).manifest.layers as {
      digest: string;
    }[];
    expect(layers).toHaveLength(2);
    expect(layers[0]!.digest).toBe(base[0]!.digest);
  });

  it("names the image when it is missing, and rejects a malformed name with a usage error", () => {
    const root = join(work.path, "store-errors");
    const missing = tsbuild(["pull", `${registry.host}/team/nope:1`], { root });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${registry.host}/team/nope:1`);
    expect(missing.stderr).toMatch(/manifest unknown|not found/i);
    const bad = tsbuild(["pull", "UPPER/Case:1"], { root });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid reference|must be lowercase/i);
  });
});
