// A build killed with SIGKILL in the middle of a RUN: its sandbox server, launchers and sandboxes die
// with it, no mount is left, and the next build on the store recovers it and hits the cache.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { BASE_STAGE, BUSYBOX, unfinishedSnapshots } from "../cache/helpers.js";
import { leftoverCgroups, removeCgroupParents } from "../../helpers/cgroups.js";
import { leftoverMounts, stepOutcomes, TSBUILD, tempDir, tsbuild } from "../../helpers/tsbuild.js";

/** Processes whose command line holds `marker`. */
function processesWith(marker: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").includes(marker))
        found.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (check()) return true;
  return check();
}

describe("a build killed during a RUN", () => {
  const store = tempDir("killed-store");
  const ctx = tempDir("killed-ctx");
  // Cgroups of this test's builds only, under a parent of their own.
  const cgroupParent = `tsbuild-test-killed-${process.pid}`;
  const env = { ...process.env, TSBUILD_ROOT: store.path, TSBUILD_CGROUP_PARENT: cgroupParent };
  const cgroups = (): string[] => leftoverCgroups(cgroupParent);
  afterAll(() => {
    store.cleanup();
    ctx.cleanup();
    removeCgroupParents(cgroupParent);
  });

  it("leaves no process or mount, and the next build recovers the store", async () => {
    const marker = "100083";
    writeFileSync(
      join(ctx.path, "Dockerfile"),
      [BASE_STAGE, "RUN echo before > /before", `RUN sleep ${marker}`, ""].join("\n"),
    );
    const child = spawn(TSBUILD, ["build", "-t", "killed:1", ...BUSYBOX, "--progress", "plain", ctx.path], {
      env,
      stdio: "ignore",
    });
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    expect(await eventually(() => processesWith(`sleep ${marker}`).length > 0, 30_000)).toBe(true);
    child.kill("SIGKILL");
    await exited;
    expect(await eventually(() => processesWith(`sleep ${marker}`).length === 0)).toBe(true);
    expect(await eventually(() => processesWith("tsbuild-sandbox").length === 0)).toBe(true);
    expect(leftoverMounts(store.path)).toEqual([]);
    // The launchers outlive the build only to kill their sandbox and remove their cgroups.
    expect(await eventually(() => cgroups().length === 0)).toBe(true);
    // The killed process's marks are still there for the next opener to find.
    expect(readdirSync(join(store.path, "snapshots", "owners")).length).toBeGreaterThan(0);

    // The next build: the killed RUN's leftovers are collected, the steps before it hit.
    writeFileSync(
      join(ctx.path, "Dockerfile"),
      [BASE_STAGE, "RUN echo before > /before", "RUN echo after > /after", ""].join("\n"),
    );
    const next = tsbuild(["build", "-t", "killed:1", ...BUSYBOX, "--progress", "plain", ctx.path], {
      root: store.path,
      env: { TSBUILD_CGROUP_PARENT: cgroupParent },
    });
    expect(next.code, next.stderr).toBe(0);
    const outcomes = stepOutcomes(next.stderr).map((s) => s.outcome);
    expect(outcomes).toEqual(["CACHED", "CACHED", "CACHED", "DONE"]);
    expect(unfinishedSnapshots(store.path)).toEqual([]);
    expect(existsSync(join(store.path, "snapshots", "owners"))).toBe(true);
    expect(readdirSync(join(store.path, "snapshots", "owners"))).toEqual([]);
    expect(cgroups()).toEqual([]);
    const verify = tsbuild(["verify"], { root: store.path });
    expect(verify.code, verify.stderr).toBe(0);
  });
});
