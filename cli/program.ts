// The CLI parses options and wires the parts; no build logic lives here (DESIGN.md).
import { Command, CommanderError } from "commander";
import { DockerfileError, TsbuildError } from "../src/errors.js";
import { registerBuild } from "./commands/build.js";
import { registerCheck } from "./commands/check.js";
import { registerImages } from "./commands/images.js";
import { registerInspect } from "./commands/inspect.js";
import { registerLogin } from "./commands/login.js";
import { registerLogout } from "./commands/logout.js";
import { registerPull } from "./commands/pull.js";
import { registerPush } from "./commands/push.js";
import { registerPrune } from "./commands/prune.js";
import { registerSave } from "./commands/save.js";
import { registerVerify } from "./commands/verify.js";

/** Parses `args` (the arguments after the program name), runs the command and exits the process. */
export async function runCli(args: string[]): Promise<never> {
  // Made per run, not at import: the start-up snapshot must not hold defaults of the machine that
  // built it (--jobs is this machine's core count).
  const program = new Command("tsbuild")
    .description("Build OCI images from Dockerfiles")
    .version("0.1.0")
    .exitOverride()
    .showHelpAfterError();
  registerBuild(program);
  registerCheck(program);
  registerImages(program);
  registerInspect(program);
  registerSave(program);
  registerVerify(program);
  registerPrune(program);
  registerPull(program);
  registerPush(program);
  registerLogin(program);
  registerLogout(program);
  try {
    await program.parseAsync(withDefaultCommand(program, args), { from: "user" });
  } catch (err) {
    process.exitCode = exitCodeOf(err);
  }
  // Exit now rather than when the event loop drains: a keep-alive socket or a timer left by a library
  // must never keep a finished command alive (stdout/stderr writes are synchronous on Linux).
  process.exit(process.exitCode ?? 0);
}

/** `tsbuild -t app:1 .` is `tsbuild build -t app:1 .`, as with `docker build`'s habits. */
function withDefaultCommand(program: Command, args: string[]): string[] {
  const first = args[0];
  const known = new Set(program.commands.flatMap((c) => [c.name(), ...c.aliases()]));
  if (first === undefined || known.has(first) || ["-h", "--help", "-V", "--version", "help"].includes(first))
    return args;
  return ["build", ...args];
}

function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  if (err instanceof DockerfileError) {
    process.stderr.write(`error: ${err.pretty()}\n`);
    return err.exitCode;
  }
  if (err instanceof TsbuildError) {
    process.stderr.write(`error: ${err.message}\n`);
    return err.exitCode;
  }
  process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
}
