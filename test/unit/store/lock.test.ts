import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lockPath, withStoreLock } from "../../../src/store/lock.js";
import { transpileSources } from "./transpile.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tsbuild-lock-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function deadPid(): number {
  return Number(spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim());
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
    const code = join(dir, "code");
    transpileSources(code, ["src/errors.ts", "src/store/process.ts", "src/store/lock.ts"]);
    const script = join(code, "holder.js");
    writeFileSync(
      script,
      `import { appendFileSync } from "node:fs";
import { withStoreLock } from "./src/store/lock.js";
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
    expect(readdirSync(join(store, "locks"))).toEqual([]);
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

  it("takes over a stale lock left by a dead process", async () => {
    mkdirSync(join(dir, "locks"));
    writeFileSync(lockPath(dir, "index"), `${deadPid()}\n`);
    expect(await withStoreLock(dir, "index", () => 42, { timeoutMs: 1000 })).toBe(42);
    expect(readdirSync(join(dir, "locks"))).toEqual([]);
  });

  it("fails after the timeout naming the lock file and the live holder", async () => {
    mkdirSync(join(dir, "locks"));
    const path = lockPath(dir, "index");
    writeFileSync(path, `${process.ppid}\n`);
    await expect(withStoreLock(dir, "index", () => 1, { timeoutMs: 150 })).rejects.toThrow(
      `timed out after 150 ms waiting for lock ${path} (held by pid ${process.ppid})`,
    );
    expect(readFileSync(path, "utf8")).toBe(`${process.ppid}\n`);
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
