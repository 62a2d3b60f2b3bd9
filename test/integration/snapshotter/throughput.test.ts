// Throughput of diff and apply on 20k small files. Slow (file creation on ext4): runs only with
// TSBUILD_BENCH=1, and prints its figures.
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyLayer } from "../../../snapshotter/apply.js";
import { diffUpper } from "../../../snapshotter/diff.js";
import type { Compression } from "../../../src/oci/types.js";
import { type Env, activeDirs, makeEnv } from "./helpers.js";

const FILES = 20_000;

describe.runIf(process.env.TSBUILD_BENCH === "1")("diff/apply throughput", () => {
  let env: Env;
  let upper: string;
  let bytes = 0;
  beforeAll(async () => {
    env = await makeEnv();
    await env.sn.prepare("src");
    upper = (await activeDirs(env.sn, "src")).upper!;
    // Half random, half repeated text: compressible like real files, not trivially so.
    for (let d = 0; d < 100; d++) {
      mkdirSync(join(upper, `d${d}`));
      for (let f = 0; f < FILES / 100; f++) {
        const size = 512 + ((d * 977 + f * 131) % 7680);
        const half = randomBytes(size / 4).toString("hex");
        const content = half + "lorem ipsum ".repeat(Math.ceil(size / 24)).slice(0, size - half.length);
        writeFileSync(join(upper, `d${d}`, `f${f}`), content);
        bytes += content.length;
      }
    }
  });
  afterAll(() => env?.cleanup());

  for (const compression of ["gzip", "zstd", "none"] as Compression[]) {
    it(`diff + apply, ${compression}`, async () => {
      const t0 = performance.now();
      const res = await diffUpper({ upperDir: upper, lowerDirs: [], store: env.store, compression });
      const t1 = performance.now();
      await env.sn.prepare(`apply-${compression}`);
      const target = (await activeDirs(env.sn, `apply-${compression}`)).upper!;
      await applyLayer({ store: env.store, layer: res.layer, targetDir: target, expectedDiffId: res.diffId });
      const t2 = performance.now();
      const ds = (t1 - t0) / 1000;
      const as = (t2 - t1) / 1000;
      console.log(
        `${compression}: ${FILES} files, ${(bytes / 1e6).toFixed(1)} MB content, tar ${(res.uncompressedSize / 1e6).toFixed(1)} MB → ${(res.layer.size / 1e6).toFixed(1)} MB; ` +
          `diff ${ds.toFixed(2)} s = ${Math.round(FILES / ds)} files/s, ${(res.uncompressedSize / 1e6 / ds).toFixed(0)} MB/s; ` +
          `apply ${as.toFixed(2)} s = ${Math.round(FILES / as)} files/s, ${(res.uncompressedSize / 1e6 / as).toFixed(0)} MB/s`,
      );
      expect(res.entries).toBe(FILES + 100);
    });
  }
});
