import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openContentStore } from "../../../../src/store/content.js";
import type { ContentStore } from "../../../../src/store/types.js";

const hex = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

/** A pid that certainly belongs to no live process: a child that has exited and been reaped. */
function deadPid(): number {
  const r = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
  return Number(r.stdout.trim());
}

let root: string;
let store: ContentStore;
beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "tsbuild-store-"));
  store = await openContentStore(root);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("openContentStore", () => {
  it("lays out an empty OCI image layout", () => {
    expect(JSON.parse(readFileSync(join(root, "oci-layout"), "utf8"))).toEqual({
      imageLayoutVersion: "1.0.0",
    });
    expect(JSON.parse(readFileSync(join(root, "index.json"), "utf8"))).toEqual({
      schemaVersion: 2,
      manifests: [],
    });
    expect(readdirSync(join(root, "blobs", "sha256"))).toEqual([]);
    expect(readdirSync(join(root, "ingest"))).toEqual([]);
  });

  it("sweeps a dead writer's ingest files and keeps a live one's", async () => {
    const dead = join(root, "ingest", `${deadPid()}-0123abcd`);
    const live = join(root, "ingest", `${process.ppid}-4567abcd`);
    writeFileSync(dead, "partial");
    writeFileSync(live, "partial");
    await openContentStore(root);
    expect(readdirSync(join(root, "ingest"))).toEqual([live.slice(live.lastIndexOf("/") + 1)]);
  });

  it("keeps index.json when opened again", async () => {
    await store.setImage("a:1", { mediaType: "m", digest: `sha256:${hex("x")}`, size: 1 });
    const again = await openContentStore(root);
    expect((await again.listImages()).map((r) => r.name)).toEqual(["a:1"]);
  });
});

describe("ingest", () => {
  it("streams, hashes and commits a read-only blob", async () => {
    const big = Buffer.alloc(3 << 20, 7);
    const w = await store.ingest();
    w.stream.write("a");
    w.stream.write(big);
    w.stream.end("z");
    const all = Buffer.concat([Buffer.from("a"), big, Buffer.from("z")]);
    const { digest, size } = await w.commit(`sha256:${hex(all)}`);
    expect(digest).toBe(`sha256:${hex(all)}`);
    expect(size).toBe(all.length);
    expect(store.has(digest)).toBe(true);
    expect((await store.readBlob(digest)).equals(all)).toBe(true);
    expect(statSync(store.blobPath(digest)).mode & 0o777).toBe(0o444);
    expect(readdirSync(join(root, "ingest"))).toEqual([]);
  });

  it("commits after a pipeline has finished the stream, and fails if the source failed", async () => {
    const w = await store.ingest();
    await pipeline(Readable.from([Buffer.from("piped "), Buffer.from("data")]), w.stream);
    expect(await w.commit()).toEqual({ digest: `sha256:${hex("piped data")}`, size: 10 });

    const broken = await store.ingest();
    const source = new Readable({
      read() {
        this.destroy(new Error("source failed"));
      },
    });
    await expect(pipeline(source, broken.stream)).rejects.toThrow("source failed");
    await expect(broken.commit()).rejects.toThrow();
    expect(readdirSync(join(root, "ingest"))).toEqual([]);
    expect(readdirSync(join(root, "blobs", "sha256"))).toEqual([hex("piped data")]);
  });

  it("rejects a digest mismatch and leaves neither blob nor temp file", async () => {
    const w = await store.ingest();
    w.stream.end("actual");
    const wrong = `sha256:${hex("expected")}`;
    await expect(w.commit(wrong)).rejects.toThrow(
      `blob ${wrong}: digest mismatch: wrote sha256:${hex("actual")}`,
    );
    expect(readdirSync(join(root, "blobs", "sha256"))).toEqual([]);
    expect(readdirSync(join(root, "ingest"))).toEqual([]);
  });

  it("abort removes the partial file", async () => {
    const w = await store.ingest();
    w.stream.write("partial");
    await w.abort();
    expect(readdirSync(join(root, "ingest"))).toEqual([]);
    expect(readdirSync(join(root, "blobs", "sha256"))).toEqual([]);
  });

  it("commits the same content concurrently to one blob", async () => {
    const data = Buffer.alloc(1 << 20, 3);
    const results = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const w = await store.ingest();
        for (let i = 0; i < data.length; i += 65536) w.stream.write(data.subarray(i, i + 65536));
        w.stream.end();
        return w.commit();
      }),
    );
    expect(new Set(results.map((r) => r.digest))).toEqual(new Set([`sha256:${hex(data)}`]));
    expect(readdirSync(join(root, "blobs", "sha256"))).toEqual([hex(data)]);
    expect(readdirSync(join(root, "ingest"))).toEqual([]);
  });

  it("writeBlob stores small buffers and is idempotent", async () => {
    const a = await store.writeBlob("hello");
    const b = await store.writeBlob(Buffer.from("hello"), `sha256:${hex("hello")}`);
    expect(a).toEqual({ digest: `sha256:${hex("hello")}`, size: 5 });
    expect(b).toEqual(a);
    await expect(store.writeBlob("hello", `sha256:${hex("other")}`)).rejects.toThrow(/digest mismatch/);
  });

  it("readBlob names a missing digest", async () => {
    const d = `sha256:${hex("missing")}`;
    await expect(store.readBlob(d)).rejects.toThrow(`blob ${d}: not found`);
  });

  it("verify detects a corrupted blob", async () => {
    const { digest } = await store.writeBlob("precious");
    expect(await store.verify(digest)).toBe(true);
    chmodSync(store.blobPath(digest), 0o644);
    writeFileSync(store.blobPath(digest), "tampered");
    expect(await store.verify(digest)).toBe(false);
    expect(await store.verify(`sha256:${hex("absent")}`)).toBe(false);
  });
});

describe("image references", () => {
  const desc = (s: string) => ({
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: `sha256:${hex(s)}`,
    size: s.length,
  });

  it("sets, replaces, lists and removes names in index.json", async () => {
    await store.setImage("hello:1", desc("one"));
    await store.setImage("localhost:5000/app:v2", desc("two"));
    await store.setImage("hello:1", desc("three"));
    expect(await store.listImages()).toEqual([
      { name: "hello:1", target: desc("three") },
      { name: "localhost:5000/app:v2", target: desc("two") },
    ]);
    expect(await store.getImage("localhost:5000/app:v2")).toEqual({
      name: "localhost:5000/app:v2",
      target: desc("two"),
    });
    const index = JSON.parse(readFileSync(join(root, "index.json"), "utf8"));
    expect(index.manifests[0].annotations).toEqual({ "org.opencontainers.image.ref.name": "hello:1" });
    expect(await store.removeImage("hello:1")).toBe(true);
    expect(await store.removeImage("hello:1")).toBe(false);
    expect(await store.getImage("hello:1")).toBeUndefined();
    expect((await store.listImages()).map((r) => r.name)).toEqual(["localhost:5000/app:v2"]);
  });

  it("loses no update when many names are set at once", async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.setImage(`img:${i}`, desc(String(i)))));
    expect((await store.listImages()).length).toBe(20);
  });
});
