// `tsbuild prune` on a real store: what tagged images use survives and still exports and verifies;
// unreferenced records, snapshots and blobs go; a running build blocks it; a rebuild still works.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { cacheMountDir } from "../../../builder/ops/mounts/cache-dir.js";
import { snapshotKinds, TSBUILD, tempDir, tsbuild } from "../../helpers/tsbuild.js";
import { BASE_STAGE, BUSYBOX, rebuilt } from "./helpers.js";

const records = (root: string) => readdirSync(join(root, "cache")).filter((n) => n.endsWith(".json"));
const blobs = (root: string) => readdirSync(join(root, "blobs/sha256")).sort();
const snapshots = (root: string) => [...snapshotKinds(root).keys()].sort();

/** A store and a context holding a Dockerfile of `lines` (after the busybox base stage); removed after the file. */
function storeWithContext(
  name: string,
  lines: string[],
): { store: { path: string }; work: { path: string }; ctx: string } {
  const store = tempDir(`${name}-store`);
  const work = tempDir(`${name}-work`);
  const ctx = join(work.path, "ctx");
  mkdirSync(ctx);
  writeFileSync(join(ctx, "Dockerfile"), [BASE_STAGE, ...lines, ""].join("\n"));
  afterAll(() => {
    store.cleanup();
    work.cleanup();
  });
  return { store, work, ctx };
}

describe("prune", () => {
  const { store, work, ctx } = storeWithContext("prune", [
    "FROM base AS side",
    "RUN echo side > /side; echo only-here > /extra",
    "FROM base",
    "COPY --from=side /side /side",
    "RUN echo top > /top",
  ]);
  const build = (...extra: string[]) =>
    tsbuild(["build", "-t", "kept:1", ...BUSYBOX, "--progress", "plain", ...extra, ctx], {
      root: store.path,
    });

  it("keeps recent cache with --filter until=1h and everything with a large --keep-storage", () => {
    expect(build().code).toBe(0);
    const before = { r: records(store.path), b: blobs(store.path), s: snapshots(store.path) };
    for (const args of [["--filter", "until=1h"], ["--keep-storage", "10GB"], []]) {
      const r = tsbuild(["prune", ...args], { root: store.path });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^removed 0 cache records/);
    }
    expect({ r: records(store.path), b: blobs(store.path), s: snapshots(store.path) }).toEqual(before);
  });

  it("--keep-storage 0 drops every record but what the tagged image uses", () => {
    const r = tsbuild(["prune", "--keep-storage", "0"], { root: store.path });
    expect(r.code, r.stderr).toBe(0);
    expect(records(store.path)).toEqual([]);
    // The side stage's layer is in no tagged image: it went.
    expect(r.stdout).toMatch(/removed [1-9]\d* cache records .* [1-9]\d* snapshots .* [1-9]\d* blobs/);
  });

  it("--all leaves exactly the tagged image, which still exports and verifies; a rebuild works", () => {
    expect(build().code).toBe(0); // records back (the image's layers are reused as they are)
    expect(records(store.path).length).toBeGreaterThan(0);
    const r = tsbuild(["prune", "--all"], { root: store.path });
    expect(r.code, r.stderr).toBe(0);
    expect(records(store.path)).toEqual([]);
    const inspected = JSON.parse(tsbuild(["inspect", "kept:1"], { root: store.path }).stdout);
    const wanted = [
      inspected.descriptor.digest,
      inspected.manifest.config.digest,
      ...inspected.manifest.layers.map((l: { digest: string }) => l.digest),
    ];
    expect(blobs(store.path)).toEqual(wanted.map((d: string) => d.slice(7)).sort());
    // One committed snapshot per layer of the image's chain, nothing else.
    expect(snapshots(store.path)).toHaveLength(inspected.manifest.layers.length);
    expect(snapshots(store.path).every((n) => n.startsWith("chain:"))).toBe(true);

    const v = tsbuild(["verify"], { root: store.path });
    expect(v.code, v.stderr).toBe(0);
    const archive = join(work.path, "kept.tar");
    expect(tsbuild(["save", "kept:1", "-o", archive], { root: store.path }).code).toBe(0);
    const sk = spawnSync("skopeo", ["inspect", `oci-archive:${archive}`], { encoding: "utf8" });
    expect(sk.status, sk.stderr).toBe(0);
    expect(JSON.parse(sk.stdout).Digest).toBe(inspected.descriptor.digest);

    const again = build();
    expect(again.code, again.stderr).toBe(0);
    expect(rebuilt(again.stderr).length).toBeGreaterThan(0);
    const after = JSON.parse(tsbuild(["inspect", "kept:1"], { root: store.path }).stdout);
    expect(after.manifest.layers.length).toBe(inspected.manifest.layers.length);
  });

  it("refuses to run while a build is running, and leaves its store alone", async () => {
    const slow = join(work.path, "slow");
    mkdirSync(slow);
    writeFileSync(join(slow, "Dockerfile"), [BASE_STAGE, "RUN sleep 3", ""].join("\n"));
    const child = spawn(TSBUILD, ["build", "-t", "slow:1", ...BUSYBOX, "--progress", "plain", slow], {
      env: { ...process.env, TSBUILD_ROOT: store.path },
      stdio: "ignore",
    });
    const done = new Promise<number | null>((res) => child.on("exit", res));
    const markers = join(store.path, "builds");
    while (!existsSync(markers) || readdirSync(markers).length === 0) await sleep(20);
    const r = tsbuild(["prune", "--all"], { root: store.path });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/in use by a running build \(pid \d+/);
    expect(await done).toBe(0);
    expect(readdirSync(markers)).toEqual([]);
    expect(tsbuild(["prune", "--all"], { root: store.path }).code).toBe(0);
  });

  it("prunes after a build with --keep-storage or TSBUILD_KEEP_STORAGE", () => {
    expect(build().code).toBe(0);
    const before = records(store.path);
    expect(before.length).toBeGreaterThan(0);
    // A limit the store is under: the build prunes nothing.
    const roomy = tsbuild(["build", "-t", "kept:1", ...BUSYBOX, "--progress", "plain", ctx], {
      root: store.path,
      env: { TSBUILD_KEEP_STORAGE: "10GB" },
    });
    expect(roomy.code, roomy.stderr).toBe(0);
    expect(roomy.stderr).toMatch(/prune \(keep 10GB\): removed 0 cache records/);
    // Every record stays (what neither a record nor a tag reaches, e.g. an older manifest, may go).
    expect(records(store.path)).toEqual(before);
    // The flag wins over the environment; 0 leaves only what the tagged image uses.
    const tight = tsbuild(
      ["build", "-t", "kept:1", ...BUSYBOX, "--progress", "plain", "--keep-storage", "0", ctx],
      { root: store.path, env: { TSBUILD_KEEP_STORAGE: "10GB" } },
    );
    expect(tight.code, tight.stderr).toBe(0);
    expect(tight.stderr).toMatch(/prune \(keep 0\): removed [1-9]\d* cache records/);
    expect(records(store.path)).toEqual([]);
    // It did what the prune command does: running that now finds nothing more to remove.
    const left = snapshots(store.path);
    expect(left.every((n) => n.startsWith("chain:"))).toBe(true);
    const again = tsbuild(["prune", "--keep-storage", "0"], { root: store.path });
    expect(again.stdout).toMatch(
      /^removed 0 cache records \(0 kept\), 0 cache mounts .*, 0 snapshots .*, 0 blobs/,
    );
    expect(snapshots(store.path)).toEqual(left);
    expect(tsbuild(["verify"], { root: store.path }).code).toBe(0);
    // A bad size fails before anything is built.
    const bad = tsbuild(["build", "-t", "kept:2", ...BUSYBOX, ctx], {
      root: store.path,
      env: { TSBUILD_KEEP_STORAGE: "lots" },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/TSBUILD_KEEP_STORAGE lots: expected a size/);
    expect(tsbuild(["images"], { root: store.path }).stdout).not.toContain("kept:2");
  });

  it("rejects a bad size or filter with a usage error", () => {
    expect(tsbuild(["prune", "--keep-storage", "lots"], { root: store.path }).code).toBe(2);
    expect(tsbuild(["prune", "--filter", "label=x"], { root: store.path }).code).toBe(2);
  });
});

describe("prune and RUN --mount=type=cache", () => {
  const { store, ctx } = storeWithContext("prune-mounts", [
    "FROM base",
    "ARG RUNID",
    'RUN --mount=type=cache,id=fresh,target=/c echo "$RUNID" >> /c/log && cp /c/log /fresh-log',
    "RUN --mount=type=cache,id=stale,target=/c echo x > /c/f",
  ]);
  const build = (runId: string) =>
    tsbuild(["build", "-t", "mounts:1", ...BUSYBOX, "--build-arg", `RUNID=${runId}`, ctx], {
      root: store.path,
    });
  const mountDirs = () => readdirSync(join(store.path, "cache-mounts")).sort();
  const fresh = cacheMountDir(store.path, "fresh");
  const stale = cacheMountDir(store.path, "stale");

  it("keeps cache mounts on a plain prune, drops them by last use, --keep-storage and leftovers", () => {
    expect(build("1").code).toBe(0);
    expect(mountDirs()).toEqual([fresh, stale].map((d) => d.split("/").pop()).sort());
    // The "stale" mount was last used two days ago; a killed build left a private copy behind.
    const twoDaysAgo = new Date(Date.now() - 48 * 3600_000);
    utimesSync(stale, twoDaysAgo, twoDaysAgo);
    mkdirSync(`${fresh}.private-0123456789ab`);

    const plain = tsbuild(["prune"], { root: store.path });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/, 1 cache mounts /);
    expect(existsSync(fresh) && existsSync(stale)).toBe(true);
    expect(existsSync(`${fresh}.private-0123456789ab`)).toBe(false);

    const old = tsbuild(["prune", "--filter", "until=24h"], { root: store.path });
    expect(old.stdout).toMatch(/, 1 cache mounts /);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(fresh)).toBe(true);

    const all = tsbuild(["prune", "--keep-storage", "0"], { root: store.path });
    expect(all.stdout).toMatch(/, 1 cache mounts /);
    expect(existsSync(fresh)).toBe(false);
  });

  it("a build after the prune gets an empty cache dir again", () => {
    const r = build("2");
    expect(r.code, r.stderr).toBe(0);
    // The log the first build appended to went with the prune: this build's line is the only one.
    expect(readFileSync(join(fresh, "log"), "utf8")).toBe("2\n");
  });
});
