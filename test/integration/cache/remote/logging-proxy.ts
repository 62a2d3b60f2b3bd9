// A logging HTTP proxy in front of the registry, in its own process (the CLI runs under spawnSync,
// which would block a proxy living in the test's event loop), so a test can count blob GETs.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stopAndRemove } from "../../../helpers/registry.js";

export interface LoggingProxy {
  host: string;
  /** "METHOD /path" of every request since the last reset(). */
  log(): string[];
  /** Digests of the blobs fetched with GET since the last reset(), in order (repeats kept). */
  blobGets(): string[];
  reset(): void;
  stop(): Promise<void>;
}

export async function startLoggingProxy(upstreamPort: number): Promise<LoggingProxy> {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-proxy-"));
  const logFile = join(dir, "requests.log");
  writeFileSync(logFile, "");
  const child: ChildProcess = spawn(
    process.execPath,
    [join(import.meta.dirname, "logging-proxy-server.mjs"), String(upstreamPort), logFile],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`logging proxy exited ${code}`)));
    child.stdout?.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  const log = () => readFileSync(logFile, "utf8").split("\n").filter(Boolean);
  return {
    host: `127.0.0.1:${port}`,
    log,
    blobGets: () =>
      log().flatMap((l) => {
        const m = /^GET \/v2\/.+\/blobs\/(sha256:[0-9a-f]{64})$/.exec(l);
        return m ? [m[1]!] : [];
      }),
    reset: () => writeFileSync(logFile, ""),
    stop: () => stopAndRemove(child, dir),
  };
}
