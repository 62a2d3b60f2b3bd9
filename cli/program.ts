// The CLI parses options and wires the parts; no build logic lives here (DESIGN.md).
import { Command, CommanderError } from "commander";
import { DockerfileError, TsbuildError, causeChain, messageOf } from "../src/errors.js";
import { normalizeFlags } from "./argv.js";
import { registerBuild } from "./commands/build.js";
import { exitWhenDrained, ignoreClosedOutput } from "./exit.js";
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
    .option("--debug", "on an error, also print what caused it, with stacks (or TSBUILD_DEBUG=1)")
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
  ignoreClosedOutput();
  const { debug, rest } = takeDebugFlag(args);
  try {
    const argv = withDefaultCommand(program, rest);
    const command = program.commands.find((c) => c.name() === argv[0] || c.aliases().includes(argv[0]!));
    await program.parseAsync(normalizeFlags(command, argv), { from: "user" });
  } catch (err) {
    process.exitCode = exitCodeOf(err, debug || process.env.TSBUILD_DEBUG === "1");
  }
  return exitWhenDrained(typeof process.exitCode === "number" ? process.exitCode : 0);
}

/** `--debug` before the command (`tsbuild --debug build …`, `tsbuild --debug -t x .`). */
function takeDebugFlag(args: string[]): { debug: boolean; rest: string[] } {
  let i = 0;
  while (args[i] === "--debug") i++;
  return { debug: i > 0, rest: args.slice(i) };
}

/** `tsbuild -t app:1 .` is `tsbuild build -t app:1 .`, as with `docker build`'s habits. */
function withDefaultCommand(program: Command, args: string[]): string[] {
  const first = args[0];
  const known = new Set(program.commands.flatMap((c) => [c.name(), ...c.aliases()]));
  if (first === undefined || known.has(first) || ["-h", "--help", "-V", "--version", "help"].includes(first))
    return args;
  return ["build", ...args];
}

/**
 * The CLI's error boundary: one `error:` line (a Dockerfile error with its lines shown), the exit code
 * of the error's class (1 for anything not a tsbuild error: a system error that no lower boundary
 * named), and only with --debug what caused it, with stacks: for bug reports, not users.
 */
function exitCodeOf(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  const text = err instanceof DockerfileError ? err.pretty() : messageOf(err);
  process.stderr.write(`error: ${text}\n`);
  if (debug) for (const cause of causeChain(err)) process.stderr.write(`debug: ${cause}\n`);
  return err instanceof TsbuildError ? err.exitCode : 1;
}
