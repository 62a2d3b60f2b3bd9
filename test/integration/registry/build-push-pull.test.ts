// The build side of the registry: `build --push` publishes, and a second "machine" (an empty store)
// builds FROM that image, pulling it on demand; with --pull=never it refuses to go to the network.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningRegistry, startRegistry } from "../../helpers/registry.js";
import { stepOutcomes, tempDir, tsbuild } from "../../helpers/tsbuild.js";

describe("build --push and FROM a registry image", () => {
  const storeA = tempDir("push-a");
  const storeB = tempDir("push-b");
  const work = tempDir("push-ctx");
  let registry: RunningRegistry | undefined;
  let image: string;

  beforeAll(async () => {
    const started = await startRegistry();
    registry = started;
    image = `${started.host}/base/busybox:1`;
    const base = join(work.path, "base");
    mkdirSync(base);
    writeFileSync(
      join(base, "Dockerfile"),
      'FROM scratch\nCOPY --from=busybox-bin busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\nENV GREETING=hello\n',
    );
    const child = join(work.path, "child");
    mkdirSync(child);
    writeFileSync(join(child, "Dockerfile"), `FROM ${image}\nRUN echo "$GREETING from the child" > /msg\n`);
  });
  afterAll(async () => {
    await registry?.stop();
    registry = undefined;
    for (const d of [storeA, storeB, work]) d.cleanup();
  });

  it("pushes every tag after the build", () => {
    const r = tsbuild(
      [
        "build",
        "-t",
        image,
        "--push",
        "--build-context",
        "busybox-bin=/bin",
        "--progress",
        "plain",
        join(work.path, "base"),
      ],
      { root: storeA.path },
    );
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const local = JSON.parse(tsbuild(["inspect", image], { root: storeA.path }).stdout).descriptor.digest;
    const res = spawnSkopeo(["inspect", "--tls-verify=false", `docker://${image}`]);
    expect(JSON.parse(res).Digest).toBe(local);
  });

  it("refuses to pull with --pull=never, naming the image", () => {
    const r = tsbuild(["build", "-t", "child:1", "--pull=never", join(work.path, "child")], {
      root: storeB.path,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Dockerfile:1`);
    expect(r.stderr).toContain(image.split(":")[0]!.split("/").slice(1).join("/"));
  });

  it("pulls the base on a machine that lacks it, and then needs the network no more", async () => {
    const r = tsbuild(["build", "-t", "child:1", "--progress", "plain", join(work.path, "child")], {
      root: storeB.path,
    });
    expect(r.stderr).toContain(`pulling ${image}`);
    expect(r.code).toBe(0);
    const cfg = JSON.parse(tsbuild(["inspect", "child:1"], { root: storeB.path }).stdout).config;
    expect(cfg.config.Env).toContain("GREETING=hello");
    expect(cfg.rootfs.diff_ids).toHaveLength(3);
    await registry?.stop();
    registry = undefined;
    const again = tsbuild(["build", "-t", "child:1", "--progress", "plain", join(work.path, "child")], {
      root: storeB.path,
    });
    expect(again.code).toBe(0);
    expect(stepOutcomes(again.stderr).every((s) => s.outcome === "CACHED")).toBe(true);
  });
});

function spawnSkopeo(args: string[]): string {
  const r = spawnSync("skopeo", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`skopeo ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}
