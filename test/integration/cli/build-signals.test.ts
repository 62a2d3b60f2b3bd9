// A build cancelled by SIGINT, SIGTERM or SIGHUP in the middle of a RUN (issue 19 #8): it stops the
// RUN, removes what it made, and exits 128+signal with one line; a SIGKILLed one leaves what the
// next `prune` removes. Nothing outlives it: no process, mount, active snapshot, build marker or
// temp file.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BASE_STAGE, BUSYBOX, unfinishedSnapshots } from "../cache/helpers.js";
import { eventually, processesWith } from "../../helpers/processes.js";
import { leftoverMounts, stepOutcomes, TSBUILD, tempDir, tsbuild } from "../../helpers/tsbuild.js";

/** Every temp file (`*.tmp-*`) under dir, as paths relative to it. */
function tempFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((p) => /\.tmp-/.test(p));
}

interface Started {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

/** Starts a build whose last RUN sleeps with `marker` in its command line; resolves once it runs. */
async function startSleepingBuild(store: string, ctx: string, marker: string): Promise<Started> {
  writeFileSync(
    join(ctx, "Dockerfile"),
    [BASE_STAGE, "RUN echo before > /before", `RUN sleep ${marker}`, ""].join("\n"),
  );
  const child = spawn(TSBUILD, ["build", "-t", "sig:1", ...BUSYBOX, "--progress", "plain", ctx], {
    env: { ...process.env, TSBUILD_ROOT: store },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  expect(await eventually(() => processesWith(`sleep ${marker}`).length > 0, 30_000)).toBe(true);
  return { child, exited, stderr: () => err };
}

function expectNothingLeft(store: string, marker: string): void {
  expect(processesWith(`sleep ${marker}`)).toEqual([]);
  expect(leftoverMounts(store)).toEqual([]);
  expect(unfinishedSnapshots(store)).toEqual([]);
  expect(tempFiles(store)).toEqual([]);
  expect(readdirSync(join(store, "snapshots", "owners"))).toEqual([]);
}

describe("a build cancelled by a signal during a RUN", () => {
  const work = tempDir("signals");
  afterAll(() => work.cleanup());

  // Sleep lengths unique to this run: no other test's (or earlier run's) sleep is mistaken for ours.
  const marker = (n: number) => String(1_000_000 + (process.pid % 100_000) * 10 + n);
  const cases: [NodeJS.Signals, number, string][] = [
    ["SIGINT", 130, marker(1)],
    ["SIGTERM", 143, marker(2)],
    ["SIGHUP", 129, marker(3)],
  ];
  for (const [signal, code, marker] of cases) {
    it(`${signal}: stops the RUN, exits ${code} with one line, and leaves nothing behind`, async () => {
      const store = join(work.path, `store-${signal}`);
      const ctx = join(work.path, `ctx-${signal}`);
      tsbuild(["images"], { root: store }); // makes the store
      mkdirSync(ctx, { recursive: true });
      const b = await startSleepingBuild(store, ctx, marker);
      b.child.kill(signal);
      const end = await b.exited;
      expect(end.code, b.stderr()).toBe(code);
      const errors = b
        .stderr()
        .split("\n")
        .filter((l) => l.startsWith("error:"));
      expect(errors).toEqual([`error: interrupted (${signal})`]);
      expect(b.stderr()).not.toMatch(/\n\s+at /); // no stack
      expect(await eventually(() => processesWith(`sleep ${marker}`).length === 0)).toBe(true);
      expectNothingLeft(store, marker);
      // The steps before the cancelled RUN kept their records: the next build hits them.
      writeFileSync(
        join(ctx, "Dockerfile"),
        [BASE_STAGE, "RUN echo before > /before", "RUN echo after", ""].join("\n"),
      );
      const next = tsbuild(["build", ...BUSYBOX, "--progress", "plain", ctx], { root: store });
      expect(next.code, next.stderr).toBe(0);
      expect(stepOutcomes(next.stderr).map((s) => s.outcome)).toEqual(["CACHED", "CACHED", "CACHED", "DONE"]);
    }, 60_000);
  }

  it("SIGKILL: the next prune removes what the killed build left", async () => {
    const store = join(work.path, "store-kill");
    const ctx = join(work.path, "ctx-kill");
    mkdirSync(ctx, { recursive: true });
    const sleeper = marker(4);
    const b = await startSleepingBuild(store, ctx, sleeper);
    b.child.kill("SIGKILL");
    await b.exited;
    expect(await eventually(() => processesWith(`sleep ${sleeper}`).length === 0)).toBe(true);
    // What a kill leaves: the owner mark, and a temp of a write it was making (made here: a kill
    // at exactly that moment is a matter of luck).
    writeFileSync(join(store, "cache", ".tmp-999999999-0123456789ab"), "torn record");
    const prune = tsbuild(["prune"], { root: store });
    expect(prune.code, prune.stderr).toBe(0);
    expectNothingLeft(store, sleeper);
  }, 60_000);
});
