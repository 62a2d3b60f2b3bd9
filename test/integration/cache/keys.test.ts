// Cache correctness with real builds: each case is a pair of builds with one change between them,
// asserting exactly which steps ran again. Every case starts from (and restores) the same context,
// so the build before the change is fully cached.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir, tsbuild } from "../../helpers/tsbuild.js";
import { BASE_STAGE, BUSYBOX, outcomesByInstruction, readMetrics, rebuilt } from "./helpers.js";

const DOCKERFILE = [
  BASE_STAGE,
  "FROM base AS tool",
  // Different bytes on every run, so a re-run always changes what COPY --from=tool reads.
  "RUN date +%s%N > /tool",
  "FROM base",
  "WORKDIR /app",
  "COPY deps.txt ./",
  "RUN cat deps.txt > installed.txt",
  "COPY src/ ./src/",
  "RUN cat src/*.txt > bundle.txt",
  "ARG LATE=one",
  'RUN echo "$LATE" > late.txt',
  "COPY --from=tool /tool /app/tool",
  "",
].join("\n");

const FILES: Record<string, string> = {
  "deps.txt": "dep-a 1.0\n",
  "src/a.txt": "alpha\n",
  "src/b.txt": "beta\n",
  "src/debug.log": "ignored by .dockerignore\n",
  "unused.txt": "no step copies me\n",
  ".dockerignore": "src/*.log\n",
  Dockerfile: DOCKERFILE,
};

describe("cache keys", () => {
  const store = tempDir("cache-store");
  const work = tempDir("cache-work");
  const ctx = join(work.path, "ctx");
  const build = (...extra: string[]) =>
    tsbuild(["build", "-t", "cache:1", ...BUSYBOX, "--progress", "plain", ...extra, ctx], {
      root: store.path,
    });
  const reset = () => {
    for (const [p, content] of Object.entries(FILES)) {
      mkdirSync(join(ctx, p, ".."), { recursive: true });
      writeFileSync(join(ctx, p), content);
    }
  };
  /** The change `edit` makes (after a fully cached build) re-runs exactly `expected`. */
  const pair = (edit: () => string[] | undefined, expected: string[]) => {
    reset();
    const before = build();
    expect(before.code, before.stderr).toBe(0);
    expect(rebuilt(before.stderr)).toEqual([]);
    const extra = edit() ?? [];
    const after = build(...extra);
    expect(after.code, after.stderr).toBe(0);
    expect(rebuilt(after.stderr)).toEqual([...expected].sort());
    return after;
  };

  beforeAll(() => {
    reset();
    const first = build();
    if (first.code !== 0) throw new Error(first.stderr);
  });
  afterAll(() => {
    store.cleanup();
    work.cleanup();
  });

  it("touch only: everything hits", () => {
    pair(() => {
      spawnSync("touch", ["-d", "2001-01-01", ...Object.keys(FILES).map((p) => join(ctx, p))]);
      return undefined;
    }, []);
  });

  it("a changed file that no step copies: everything hits", () => {
    pair(() => {
      writeFileSync(join(ctx, "unused.txt"), "changed\n");
      return undefined;
    }, []);
  });

  it("a changed .dockerignored file inside a copied directory: everything hits", () => {
    pair(() => {
      writeFileSync(join(ctx, "src/debug.log"), "changed, still ignored\n");
      return undefined;
    }, []);
  });

  it("a changed copied file: that COPY and every later step of its stage run", () => {
    pair(() => {
      writeFileSync(join(ctx, "src/a.txt"), "alpha v2\n");
      return undefined;
    }, [
      "COPY src/ ./src/",
      "RUN cat src/*.txt > bundle.txt",
      'RUN echo "$LATE" > late.txt',
      "COPY --from=tool /tool /app/tool",
    ]);
  });

  it("a build arg seen only by a late step: only that step and the ones after it run", () => {
    pair(
      () => ["--build-arg", "LATE=two"],
      ['RUN echo "$LATE" > late.txt', "COPY --from=tool /tool /app/tool"],
    );
  });

  it("a build arg no stage declares changes nothing", () => {
    pair(() => ["--build-arg", "UNDECLARED=x"], []);
  });

  it("a Dockerfile edited below a step: the steps above it hit", () => {
    pair(() => {
      writeFileSync(join(ctx, "Dockerfile"), DOCKERFILE.replace("> bundle.txt", "> bundle2.txt"));
      return undefined;
    }, [
      "RUN cat src/*.txt > bundle2.txt",
      'RUN echo "$LATE" > late.txt',
      "COPY --from=tool /tool /app/tool",
    ]);
  });

  it("two instructions reordered: both run, and every step after them", () => {
    pair(() => {
      const swapped = DOCKERFILE.replace(
        "RUN cat deps.txt > installed.txt\nCOPY src/ ./src/",
        "COPY src/ ./src/\nRUN cat deps.txt > installed.txt",
      );
      expect(swapped).not.toBe(DOCKERFILE);
      writeFileSync(join(ctx, "Dockerfile"), swapped);
      return undefined;
    }, [
      "COPY src/ ./src/",
      "RUN cat deps.txt > installed.txt",
      "RUN cat src/*.txt > bundle.txt",
      'RUN echo "$LATE" > late.txt',
      "COPY --from=tool /tool /app/tool",
    ]);
  });

  it("--no-cache-filter STAGE: only that stage's steps skip the cache (and what reads its new output)", () => {
    const metrics = join(work.path, "nocache.json");
    const after = pair(
      () => ["--no-cache-filter", "tool", "--metrics-file", metrics],
      ["RUN date +%s%N > /tool", "COPY --from=tool /tool /app/tool"],
    );
    const m = readMetrics(metrics);
    expect(m.steps.filter((s) => !s.cached).map((s) => s.stage)).toEqual(["tool", "stage-2"]);
    expect(m.summary.cached).toBe(m.steps.length - 2);
    expect(after.stderr).toMatch(/=> \d+ steps, \d+ cached \(\d+%\)/);
  });

  it("an unknown --no-cache-filter stage is a usage error", () => {
    const r = build("--no-cache-filter", "nosuchstage");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--no-cache-filter nosuchstage");
  });

  it("another Dockerfile sharing a prefix reuses the shared steps", () => {
    reset();
    const other = join(work.path, "Other.Dockerfile");
    const prefix = DOCKERFILE.slice(0, DOCKERFILE.indexOf("COPY src/"));
    writeFileSync(other, `${prefix}RUN echo other > other.txt\n`);
    const r = build("-f", other);
    expect(r.code, r.stderr).toBe(0);
    const outcomes = outcomesByInstruction(r.stderr);
    expect(rebuilt(r.stderr)).toEqual(["RUN echo other > other.txt"]);
    expect(outcomes["RUN cat deps.txt > installed.txt"]).toBe("CACHED");
    // The tool stage is not needed by this Dockerfile's target: it never appears.
    expect(Object.keys(outcomes)).not.toContain("RUN date +%s%N > /tool");
  });

  it("hits restore the layer without re-diffing: cache records name the same blobs", () => {
    const records = readdirSync(join(store.path, "cache")).filter((n) => n.endsWith(".json"));
    expect(records.length).toBeGreaterThan(0);
    for (const n of records) {
      const rec = JSON.parse(readFileSync(join(store.path, "cache", n), "utf8"));
      expect(`${rec.key}.json`).toBe(`sha256:${n}`);
      if (rec.layer)
        expect(readdirSync(join(store.path, "blobs/sha256"))).toContain(rec.layer.digest.slice(7));
    }
  });
});
