// The foundation's end-to-end checks: a real multi-stage build in real sandboxes, validated by
// skopeo and umoci, its layers read entry by entry, then cache behaviour and failure modes.
import { spawnSync } from "node:child_process";
import { cpSync, lstatSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createGunzip } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extract } from "tar-stream";
import {
  REPO,
  leftoverMounts,
  stepOutcomes,
  tempDir,
  tsbuild,
  unfinishedSnapshots,
} from "../../helpers/tsbuild.js";

const BUSYBOX = ["--build-context", "busybox-bin=/bin"];

function sh(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

interface TreeEntry {
  type: "file" | "dir" | "symlink";
  mode: string;
  owner: string;
  content?: string;
  target?: string;
  ino?: number;
}

/** The tree under `root` except /bin (checked on its own), as path → entry. */
function readTree(root: string): Map<string, TreeEntry> {
  const out = new Map<string, TreeEntry>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      if (p === "bin") continue;
      const st = lstatSync(join(root, p));
      const base = { mode: (st.mode & 0o7777).toString(8), owner: `${st.uid}:${st.gid}` };
      if (st.isSymbolicLink()) out.set(p, { type: "symlink", ...base, target: readlinkSync(join(root, p)) });
      else if (st.isDirectory()) {
        out.set(p, { type: "dir", ...base });
        walk(p);
      } else out.set(p, { type: "file", ...base, content: readFileSync(join(root, p), "utf8"), ino: st.ino });
    }
  };
  walk("");
  return out;
}

/** Entry names of a gzip layer blob, in archive order. */
async function layerEntries(blob: string): Promise<string[]> {
  const names: string[] = [];
  const ex = extract();
  ex.on("entry", (h, stream, next) => {
    names.push(h.name);
    stream.on("end", next).resume();
  });
  const done = new Promise<void>((res, rej) => {
    ex.on("finish", res).on("error", rej);
  });
  const gunzip = createGunzip();
  gunzip.pipe(ex);
  gunzip.end(readFileSync(blob));
  await done;
  return names;
}

describe("multi-stage build end to end", () => {
  const store = tempDir("store");
  const work = tempDir("work");
  const ctx = join(work.path, "ctx");
  const archive = join(work.path, "image.tar");
  let first: ReturnType<typeof tsbuild>;

  beforeAll(() => {
    cpSync(join(REPO, "test/integration/fixtures/multistage"), ctx, { recursive: true });
    first = tsbuild(
      ["build", "-t", "multi:1", ...BUSYBOX, "--progress", "plain", "-o", `type=oci,dest=${archive}`, ctx],
      {
        root: store.path,
      },
    );
  });
  afterAll(() => {
    store.cleanup();
    work.cleanup();
  });

  it("builds and exits 0", () => {
    expect(first.stderr).not.toMatch(/error/i);
    expect(first.code).toBe(0);
  });

  it("writes an OCI archive that skopeo accepts", () => {
    const info = JSON.parse(sh("skopeo", ["inspect", `oci-archive:${archive}`]));
    expect(info.Os).toBe("linux");
    // busybox COPY, busybox --install, three RUNs, two COPYs, the last RUN.
    expect(info.Layers).toHaveLength(8);
    const inspected = JSON.parse(tsbuild(["inspect", "multi:1"], { root: store.path }).stdout);
    expect(info.Digest).toBe(inspected.descriptor.digest);
    expect(inspected.manifest.layers.map((l: { digest: string }) => l.digest)).toEqual(info.Layers);
    expect(inspected.config.config.Cmd).toEqual(["cat", "/app/joined.txt"]);
  });

  it("unpacks with umoci to exactly the expected tree", () => {
    const layout = join(work.path, "layout");
    sh("mkdir", ["-p", layout]);
    sh("tar", ["-xf", archive, "-C", layout]);
    const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
    const ref = index.manifests[0].annotations["org.opencontainers.image.ref.name"];
    const bundle = join(work.path, "bundle");
    sh("umoci", ["unpack", "--image", `${layout}:${ref}`, bundle]);
    const rootfs = join(bundle, "rootfs");
    const tree = readTree(rootfs);
    const hardIno = tree.get("data/hard")?.ino;
    expect(hardIno).toBeDefined();
    expect(tree.get("data/mod.txt")?.ino).toBe(hardIno);
    const strip = [...tree].map(([p, e]) => [p, { ...e, ino: undefined }]);
    expect(Object.fromEntries(strip)).toEqual({
      app: { type: "dir", mode: "755", owner: "0:0" },
      "app/joined.txt": { type: "file", mode: "644", owner: "0:0", content: "alpha\nbeta\n" },
      "app/keep": { type: "dir", mode: "750", owner: "0:0" },
      "app/keep/k": { type: "file", mode: "644", owner: "1000:1000", content: "keep\n" },
      "app/late.copy": { type: "file", mode: "644", owner: "0:0", content: "late v1\n" },
      "app/late.txt": { type: "file", mode: "600", owner: "0:0", content: "late v1\n" },
      "app/link": { type: "symlink", mode: "777", owner: "0:0", target: "/data/mod.txt" },
      "app/old": { type: "dir", mode: "755", owner: "0:0" },
      "app/old/y": { type: "file", mode: "644", owner: "0:0", content: "v2\n" },
      data: { type: "dir", mode: "755", owner: "0:0" },
      "data/hard": { type: "file", mode: "644", owner: "0:0", content: "orig\nchanged\n" },
      "data/mod.txt": { type: "file", mode: "644", owner: "0:0", content: "orig\nchanged\n" },
    });
    expect(lstatSync(join(rootfs, "bin/busybox")).mode & 0o777).toBe(0o755);
    expect(readlinkSync(join(rootfs, "bin/sh"))).toBe("/bin/busybox");
  });

  it("records deletions as .wh. whiteouts and the replaced directory as opaque", async () => {
    const { manifest } = JSON.parse(tsbuild(["inspect", "multi:1"], { root: store.path }).stdout);
    const blob = (i: number) => join(store.path, "blobs/sha256", manifest.layers[i].digest.slice(7));
    const run2 = await layerEntries(blob(3));
    expect(run2).toContain("data/.wh.tmp.txt");
    expect(run2).toContain("app/old/.wh..wh..opq");
    expect(run2).toContain("app/old/y");
    expect(run2).not.toContain("app/old/x");
    // The opaque marker comes before the directory's other entries.
    expect(run2.indexOf("app/old/.wh..wh..opq")).toBeLessThan(run2.indexOf("app/old/y"));
    const run3 = await layerEntries(blob(4));
    expect(run3.filter((n) => n.includes(".wh."))).toEqual([]);
    expect(run3).not.toContain("data/gone");
    expect(run3).toEqual(expect.arrayContaining(["app/link", "data/hard", "app/keep/k"]));
  });

  it("rebuilds nothing when nothing changed, with the same image digest", () => {
    const before = JSON.parse(tsbuild(["inspect", "multi:1"], { root: store.path }).stdout).descriptor.digest;
    const again = tsbuild(["build", "-t", "multi:1", ...BUSYBOX, "--progress", "plain", ctx], {
      root: store.path,
    });
    expect(again.code).toBe(0);
    const steps = stepOutcomes(again.stderr);
    expect(steps.length).toBeGreaterThanOrEqual(9);
    expect(steps.filter((s) => s.outcome !== "CACHED")).toEqual([]);
    const after = JSON.parse(tsbuild(["inspect", "multi:1"], { root: store.path }).stdout).descriptor.digest;
    expect(after).toBe(before);
  });

  it("ignores a touched file and a file no step copies", () => {
    writeFileSync(join(ctx, "unused.txt"), "changed but never copied\n");
    spawnSync("touch", [join(ctx, "src/a.txt")]);
    const r = tsbuild(["build", "-t", "multi:1", ...BUSYBOX, "--progress", "plain", ctx], {
      root: store.path,
    });
    expect(r.code).toBe(0);
    expect(stepOutcomes(r.stderr).filter((s) => s.outcome !== "CACHED")).toEqual([]);
  });

  it("rebuilds only the late COPY and the steps after it when its file changes", () => {
    writeFileSync(join(ctx, "late.txt"), "late v2\n");
    const r = tsbuild(["build", "-t", "multi:1", ...BUSYBOX, "--progress", "plain", ctx], {
      root: store.path,
    });
    expect(r.code).toBe(0);
    const rebuilt = stepOutcomes(r.stderr)
      .filter((s) => s.outcome === "DONE")
      .map((s) => s.name.replace(/^\[[^\]]*\] /, ""));
    expect(rebuilt).toEqual([
      "COPY --chmod=0600 late.txt /app/late.txt",
      "RUN cat /app/late.txt > /app/late.copy",
    ]);
  });

  it("fails a RUN with exit 1, naming the step, line and status, and leaves a clean store", () => {
    const bad = join(work.path, "bad");
    sh("mkdir", ["-p", bad]);
    writeFileSync(
      join(bad, "Dockerfile"),
      'FROM scratch\nCOPY --from=busybox-bin busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "echo about to fail; exit 3"]\n',
    );
    const r = tsbuild(["build", "-t", "bad:1", ...BUSYBOX, "--progress", "plain", bad], { root: store.path });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Dockerfile:3: RUN .*exit code: 3/);
    expect(r.stderr).toContain("about to fail");
    expect(leftoverMounts(store.path)).toEqual([]);
    expect(unfinishedSnapshots(store.path)).toEqual([]);
    const v = tsbuild(["verify"], { root: store.path });
    expect(v.stderr).toBe("");
    expect(v.code).toBe(0);
  });

  it("rejects a Dockerfile error with exit 2 and Dockerfile:LINE:", () => {
    const bad = join(work.path, "syntax");
    sh("mkdir", ["-p", bad]);
    writeFileSync(join(bad, "Dockerfile"), "FROM scratch\nRUNN echo hi\n");
    const r = tsbuild(["build", "-t", "bad:2", bad], { root: store.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Dockerfile:2(:\d+)?: .*RUNN/);
    expect(leftoverMounts(store.path)).toEqual([]);
    expect(tsbuild(["verify"], { root: store.path }).code).toBe(0);
  });
});
