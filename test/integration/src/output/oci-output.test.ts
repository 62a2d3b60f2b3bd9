import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeImage } from "../../../../src/image/write.js";
import { type Descriptor, MediaType } from "../../../../src/oci/types.js";
import { exportOciArchive } from "../../../../src/output/oci-archive.js";
import { exportOciLayout } from "../../../../src/output/oci-layout.js";
import { openContentStore } from "../../../../src/store/content.js";
import type { ContentStore, ImageRecord } from "../../../../src/store/types.js";

const sha256 = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

async function tarWithFile(name: string, content: string): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0 }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

let dir: string;
let store: ContentStore;
let image: ImageRecord;
let manifest: Descriptor;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tsbuild-oci-out-"));
  store = await openContentStore(join(dir, "store"));
  const layerTar = await tarWithFile("hello.txt", "hello from tsbuild\n");
  const layer = await store.writeBlob(gzipSync(layerTar));
  manifest = await writeImage(store, {
    config: {
      os: "linux",
      architecture: "amd64",
      config: { Cmd: ["/hello"] },
      rootfs: { type: "layers", diff_ids: [sha256(layerTar)] },
    },
    layers: [{ mediaType: MediaType.layerGzip, ...layer }],
  });
  image = { name: "hello:1", target: manifest };
  await store.setImage(image.name, manifest);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("OCI archive output", () => {
  it("is read by skopeo, with the manifest digest", async () => {
    const archive = join(dir, "hello.tar");
    await exportOciArchive(store, [image], archive);
    expect(readdirSync(dir).filter((n) => n.includes(".tmp-"))).toEqual([]);
    const info = JSON.parse(run("skopeo", ["inspect", `oci-archive:${archive}:1`])) as { Digest: string };
    expect(info.Digest).toBe(manifest.digest);
  });

  it("is byte-identical when exported twice", async () => {
    const a = join(dir, "a.tar");
    const b = join(dir, "b.tar");
    await exportOciArchive(store, [image], a);
    await exportOciArchive(store, [image], b);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  });

  it("holds sorted entries owned by root at time 0 and BuildKit's annotations", async () => {
    const archive = join(dir, "entries.tar");
    await exportOciArchive(store, [image], archive);
    const names: string[] = [];
    let index = "";
    const extract = tar.extract();
    const done = (async () => {
      for await (const entry of extract) {
        const h = entry.header;
        names.push(h.name);
        expect([h.uid, h.gid, h.mtime.getTime(), h.uname, h.gname]).toEqual([0, 0, 0, "", ""]);
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(Buffer.from(c as Uint8Array));
        if (h.name === "index.json") index = Buffer.concat(chunks).toString();
      }
    })();
    extract.end(readFileSync(archive));
    await done;
    expect(names).toEqual([...names].sort());
    expect(names.filter((n) => n.startsWith("blobs/sha256/") && n.length > 13)).toHaveLength(3);
    expect(JSON.parse(index).manifests[0].annotations).toEqual({
      "io.containerd.image.name": "hello:1",
      "org.opencontainers.image.ref.name": "1",
    });
  });

  it("names the missing blob of an image it cannot export", async () => {
    const bogus = { ...manifest, digest: sha256(Buffer.from("no such manifest")) };
    const dest = join(dir, "never.tar");
    await expect(exportOciArchive(store, [{ name: "ghost:1", target: bogus }], dest)).rejects.toThrow(
      `image ghost:1: blob ${bogus.digest} is missing`,
    );
    expect(existsSync(dest)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });
});

describe("OCI layout output", () => {
  it("is unpacked by umoci (which checks diff ids) and validated by oci-image-tool", async () => {
    const layout = join(dir, "layout");
    await exportOciLayout(store, [image], layout);
    const bundle = join(dir, "bundle");
    run("umoci", ["unpack", "--image", `${layout}:1`, bundle]);
    expect(readFileSync(join(bundle, "rootfs", "hello.txt"), "utf8")).toBe("hello from tsbuild\n");
    const out = run("oci-image-tool", ["validate", "--type", "image", "--ref", "name=1", layout]);
    expect(out).toMatch(/Validation succeeded/);
  });

  it("keeps other images of an existing layout and replaces one of the same name", async () => {
    const layout = join(dir, "layout2");
    await exportOciLayout(store, [image], layout);
    await exportOciLayout(store, [{ name: "other:2", target: manifest }], layout);
    await exportOciLayout(store, [image], layout);
    const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
    expect(index.manifests.map((d: Descriptor) => d.annotations?.["io.containerd.image.name"])).toEqual([
      "other:2",
      "hello:1",
    ]);
  });
});
