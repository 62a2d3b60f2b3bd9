import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lockPath, withStoreLock } from "../../../../src/store/lock.js";

/** The compiled lock module (`npm test` builds dist/ first): holders in other processes load it. */
const COMPILED_LOCK = join(import.meta.dirname, "../../../../dist/src/store/lock.js");

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tsbuild-lock-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function deadPid(): number {
  return Number(spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim());
}

/** A process holding `root`'s "index" lock until killed; resolves once it holds it. */
async function holdInChild(root: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `import { withStoreLock } from ${JSON.stringify(COMPILED_LOCK)};
await withStoreLock(${JSON.stringify(root)}, "index", async () => {
  process.stdout.write("held\\n");
  await new Promise(() => setInterval(() => {}, 1000));
});`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`lock holder exited ${code}`)));
  });
  return child;
}

function runNode(script: string, args: string[]): Promise<number | null> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: "inherit" });
    child.on("error", rej);
    child.on("exit", (code) => res(code));
  });
}

describe("withStoreLock", () => {
  it("serializes holders in separate processes", async () => {
    const script = join(dir, "holder.mjs");
    writeFileSync(
      script,
      `import { appendFileSync } from "node:fs";
import { withStoreLock } from ${JSON.stringify(COMPILED_LOCK)};
const [root, log] = process.argv.slice(2);
for (let i = 0; i < 5; i++) {
  await withStoreLock(root, "index", async () => {
    appendFileSync(log, "start " + process.pid + "\\n");
    await new Promise((r) => setTimeout(r, 20));
    appendFileSync(log, "end " + process.pid + "\\n");
  });
}
`,
    );
    const store = join(dir, "store");
    const log = join(dir, "log");
    mkdirSync(store);
    const codes = await Promise.all([1, 2, 3].map(() => runNode(script, [store, log])));
    expect(codes).toEqual([0, 0, 0]);
    const lines = readFileSync(log, "utf8").trim().split("\n");
    expect(lines.length).toBe(30);
    for (let i = 0; i < lines.length; i += 2) {
      const pid = lines[i]!.split(" ")[1];
      expect([lines[i], lines[i + 1]]).toEqual([`start ${pid}`, `end ${pid}`]);
    }
    // One lock file, kept: holders flock it instead of creating and removing files.
    expect(readdirSync(join(store, "locks"))).toEqual(["index.lock"]);
  });

  it("serializes holders in one process", async () => {
    const events: string[] = [];
    await Promise.all(
      [1, 2, 3].map((n) =>
        withStoreLock(dir, "index", async () => {
          events.push(`start ${n}`);
          await new Promise((r) => setTimeout(r, 10));
          events.push(`end ${n}`);
        }),
      ),
    );
    expect(events).toEqual(["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]);
  });

  it("is free again as soon as its holder is killed, and ignores lock files of older versions", async () => {
    mkdirSync(join(dir, "locks"));
    // tsbuild before flock left a file naming its pid; a dead holder's must not block anyone.
    writeFileSync(lockPath(dir, "index"), `${deadPid()}\n`);
    const holder = await holdInChild(dir);
    await expect(withStoreLock(dir, "index", () => 1, { timeoutMs: 100 })).rejects.toThrow(/timed out/);
    const exited = new Promise((r) => holder.once("exit", r));
    holder.kill("SIGKILL");
    await exited;
    expect(await withStoreLock(dir, "index", () => 42, { timeoutMs: 1000 })).toBe(42);
  });

  it("fails after the timeout naming the lock file", async () => {
    const holder = await holdInChild(dir);
    try {
      await expect(withStoreLock(dir, "index", () => 1, { timeoutMs: 150 })).rejects.toThrow(
        `timed out after 150 ms waiting for lock ${lockPath(dir, "index")} (held by another process)`,
      );
    } finally {
      holder.kill("SIGKILL");
    }
  });

  it("releases the lock when fn throws", async () => {
    await expect(
      withStoreLock(dir, "index", () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await withStoreLock(dir, "index", () => "again", { timeoutMs: 100 })).toBe("again");
  });
});
