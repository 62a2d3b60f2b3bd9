// The Node side of `tsbuild-sandbox --server` (native/src/sandbox_server.c): one process per build
// that starts each RUN's launcher, so Node forks once per build instead of once per RUN. A fork of
// the Node process cost ~3 ms of its main thread per launcher here; a line on a pipe costs nothing.
import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";
import {
  type LaunchMode,
  launchArgs,
  type LauncherExit,
  type LauncherLink,
  type LauncherSinks,
} from "./launcher.js";
import { sandboxBin } from "./paths.js";

/** Signal number → name, as a launcher's exit reports it. */
const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name]));

interface Served {
  sinks: LauncherSinks;
  resolve: (exit: LauncherExit) => void;
}

export class SandboxServer {
  private readonly child: ChildProcess;
  private readonly served = new Map<number, Served>();
  private nextId = 1;
  private pending: Buffer = Buffer.alloc(0);
  private failure: Error | undefined;
  private stderrTail = "";
  private readonly gone: Promise<void>;

  constructor() {
    this.child = spawn(sandboxBin(), ["--server"], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout!.on("data", (c: Buffer) => this.onData(c));
    this.child.stderr!.on("data", (c: Buffer) => {
      this.stderrTail = (this.stderrTail + c.toString()).slice(-2000);
    });
    this.child.stdin!.on("error", () => undefined); // a dead server is reported by its exit
    this.gone = new Promise((resolve) => {
      const fail = (why: string): void => {
        this.failure = new Error(
          `tsbuild-sandbox --server ${why}${this.stderrTail ? `: ${this.stderrTail.trim()}` : ""}`,
        );
        for (const s of this.served.values()) s.resolve({ code: null, killedBy: null, error: this.failure });
        this.served.clear();
        resolve();
      };
      this.child.on("error", (err) => fail(`cannot start: ${err.message}`));
      this.child.on("close", (code, sig) => fail(sig ? `killed by ${sig}` : `exited ${code}`));
    });
  }

  /** A launcher started by the server (see LauncherLink). */
  link(mode: LaunchMode, sinks: LauncherSinks): LauncherLink {
    const id = this.nextId++;
    let resolveExit!: (e: LauncherExit) => void;
    const exited = new Promise<LauncherExit>((r) => (resolveExit = r));
    if (this.failure) resolveExit({ code: null, killedBy: null, error: this.failure });
    else {
      this.served.set(id, { sinks, resolve: resolveExit });
      this.write(`prepare ${id} ${launchArgs(mode).join(" ")}\n`);
    }
    let sent = false;
    return {
      send: (spec) => {
        if (sent) return;
        sent = true;
        if (spec === undefined) this.write(`cancel ${id}\n`);
        else {
          const body = Buffer.from(spec);
          this.write(Buffer.concat([Buffer.from(`spec ${id} ${body.length}\n`), body]));
        }
      },
      kill: (sig) => this.write(`kill ${id} ${constants.signals[sig]}\n`),
      exited,
    };
  }

  private write(data: string | Buffer): void {
    if (!this.failure) this.child.stdin!.write(data);
  }

  /** Parses the server's events: `out ID 1|2 LEN`, `res ID LEN` (each followed by LEN bytes), `exit ID CODE SIG`. */
  private onData(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      const nl = this.pending.indexOf(10);
      if (nl < 0) return;
      const words = this.pending.subarray(0, nl).toString("latin1").split(" ");
      const id = Number(words[1]);
      const served = this.served.get(id);
      if (words[0] === "exit") {
        this.pending = this.pending.subarray(nl + 1);
        const code = Number(words[2]);
        const sig = Number(words[3]);
        this.served.delete(id);
        served?.resolve({
          code: code < 0 ? null : code,
          killedBy: sig ? (SIGNAL_NAMES.get(sig) ?? `signal ${sig}`) : null,
        });
        continue;
      }
      const len = Number(words[0] === "out" ? words[3] : words[2]);
      if (this.pending.length < nl + 1 + len) return; // the rest of the payload is on its way
      const body = Buffer.from(this.pending.subarray(nl + 1, nl + 1 + len));
      this.pending = this.pending.subarray(nl + 1 + len);
      if (words[0] === "res") served?.sinks.result(body);
      else served?.sinks.output(words[2] === "1" ? "stdout" : "stderr", body);
    }
  }

  /** Ends the server once its launchers are done (unused ones are cancelled by the EOF). */
  async close(): Promise<void> {
    this.child.stdin!.end();
    await this.gone;
  }
}
