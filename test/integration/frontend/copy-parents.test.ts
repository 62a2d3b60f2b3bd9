// COPY --parents keeps each source's directories under the destination (BuildKit's Dockerfile 1.7
// behaviour), including the `/./` pivot that drops the part of the path before it.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../helpers/tsbuild.js";
import { BUSYBOX_BASE, build, unpack, writeFiles } from "./helpers.js";

describe("COPY --parents", () => {
  const store = tempDir("fe-parents-store");
  const work = tempDir("fe-parents-work");
  const ctx = join(work.path, "ctx");
  let rootfs: string;
  let result: ReturnType<typeof build>;

  beforeAll(() => {
    writeFiles(ctx, {
      "x/a.txt": "xa\n",
      "y/sub/b.txt": "yb\n",
      "y/sub/c.md": "yc\n",
      "src/pkg/lib/d.txt": "d\n",
      Dockerfile: [
        BUSYBOX_BASE,
        "FROM base",
        "COPY --parents x/a.txt y/sub/*.txt /kept/",
        "COPY --parents ./src/./pkg/lib /pivot/",
        "COPY y/sub/b.txt /flat/",
      ].join("\n"),
    });
    const archive = join(work.path, "img.tar");
    result = build(store.path, ctx, ["-t", "parents:1", "-o", `type=oci,dest=${archive}`]);
    if (result.code === 0) rootfs = unpack(archive, work.path, "parents");
  });
  afterAll(() => {
    store.cleanup();
    work.cleanup();
  });

  it("builds", () => {
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
  });

  it("keeps the source paths under the destination", () => {
    expect(readFileSync(join(rootfs, "kept/x/a.txt"), "utf8")).toBe("xa\n");
    expect(readFileSync(join(rootfs, "kept/y/sub/b.txt"), "utf8")).toBe("yb\n");
    expect(existsSync(join(rootfs, "kept/y/sub/c.md"))).toBe(false);
    expect(existsSync(join(rootfs, "kept/a.txt"))).toBe(false);
  });

  it("drops what comes before a /./ pivot", () => {
    expect(readFileSync(join(rootfs, "pivot/pkg/lib/d.txt"), "utf8")).toBe("d\n");
    expect(existsSync(join(rootfs, "pivot/src"))).toBe(false);
  });

  it("leaves plain COPY flattening as it was", () => {
    expect(readFileSync(join(rootfs, "flat/b.txt"), "utf8")).toBe("yb\n");
  });
});
