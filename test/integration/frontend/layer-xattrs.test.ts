// Which extended attributes a layer records (issue 19 #13). A RUN that sets POSIX ACLs (systemd's
// postinst does, on /var/log/journal) must give the layer BuildKit and buildah give: only
// security.capability, byte for byte; the rest only with --layer-xattrs all.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../helpers/tsbuild.js";
import { tarXattrs } from "../snapshotter/helpers.js";
import { BUSYBOX_BASE, build, inspect, writeFiles } from "./helpers.js";

const DOCKERFILE = `${BUSYBOX_BASE}
FROM base
COPY set-xattrs /usr/bin/set-xattrs
RUN mkdir -p /var/log/journal && touch /var/log/journal/f && set-xattrs /var/log/journal /var/log/journal/f
COPY aclsrc /copied
`;

/** The xattrs of every entry of the image's layer number `n` (from the end: 1 = last). */
async function layerXattrs(root: string, tag: string, n: number) {
  const layers = inspect(root, tag).manifest.layers;
  const hex = layers[layers.length - n]!.digest.slice("sha256:".length);
  const tar = gunzipSync(readFileSync(join(root, "blobs", "sha256", hex)));
  return { digest: layers[layers.length - n]!.digest, xattrs: await tarXattrs(tar) };
}

describe("layer xattrs", () => {
  const store = tempDir("fe-xattr-store");
  const work = tempDir("fe-xattr-work");
  const ctx = join(work.path, "ctx");

  beforeAll(() => {
    writeFiles(ctx, { Dockerfile: DOCKERFILE, "aclsrc/f": "copied\n" });
    const helper = join(ctx, "set-xattrs");
    execFileSync("gcc", ["-static", "-O2", "-o", helper, join(import.meta.dirname, "fixtures/set-xattrs.c")]);
    // The same attributes on a context file, set on the host: COPY follows the same rule.
    mkdirSync(join(ctx, "aclsrc"), { recursive: true });
    execFileSync(helper, [join(ctx, "aclsrc"), join(ctx, "aclsrc/f")]);
  });
  afterAll(() => {
    store.cleanup();
    work.cleanup();
  });

  it("blocks POSIX ACLs and user xattrs from RUN and COPY layers by default: only security.capability", async () => {
    const r = build(store.path, ctx, ["-t", "acl:default"]);
    expect(r.code, r.stderr).toBe(0);
    const run = await layerXattrs(store.path, "acl:default", 2);
    expect([...(run.xattrs.get("var/log/journal/")?.keys() ?? [])]).toEqual([]);
    expect([...(run.xattrs.get("var/log/journal/f")?.keys() ?? [])]).toEqual(["security.capability"]);
    expect(run.xattrs.get("var/log/journal/f")!.get("security.capability")!.readUInt32LE(0)).toBe(0x02000001);
    const copy = await layerXattrs(store.path, "acl:default", 1);
    for (const [name, xa] of copy.xattrs)
      expect([...xa.keys()], name).not.toContain("system.posix_acl_access");
    expect([...copy.xattrs.values()].flatMap((xa) => [...xa.keys()])).not.toContain("user.note");
  });

  it("records them with --layer-xattrs all, under a cache key of its own", async () => {
    const plain = await layerXattrs(store.path, "acl:default", 2);
    const r = build(store.path, ctx, ["-t", "acl:all", "--layer-xattrs", "all"]);
    expect(r.code, r.stderr).toBe(0);
    const run = await layerXattrs(store.path, "acl:all", 2);
    expect([...run.xattrs.get("var/log/journal/")!.keys()].sort()).toEqual([
      "system.posix_acl_access",
      "system.posix_acl_default",
    ]);
    expect([...run.xattrs.get("var/log/journal/f")!.keys()].sort()).toEqual([
      "security.capability",
      "system.posix_acl_access",
      "user.note",
    ]);
    expect(run.digest).not.toBe(plain.digest);
  });

  it("refuses an unknown --layer-xattrs value with exit 2", () => {
    const r = build(store.path, ctx, ["--layer-xattrs", "acl"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--layer-xattrs acl: expected capability or all");
  });
});
