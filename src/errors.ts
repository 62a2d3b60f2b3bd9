// Errors a user can cause. Each names the thing it is about; the CLI maps them to exit codes
// (DESIGN.md: 0 success, 1 build failed, 2 usage or Dockerfile error). An error that wraps another
// keeps it as `cause` (ES2022), so `--debug` can show the whole chain.

export class TsbuildError extends Error {
  readonly exitCode: number = 1;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    // The subclass's name (UsageError, DockerfileError…), as --debug shows it.
    this.name = new.target.name;
  }
}

export class UsageError extends TsbuildError {
  override readonly exitCode = 2;
}

/** Where in a Dockerfile something is: 1-based lines, optional 1-based column. */
export interface SourceLocation {
  file: string;
  startLine: number;
  endLine: number;
  column?: number;
}

/** A parse or semantic error in a Dockerfile: message starts with "FILE:LINE:COL: ". */
export class DockerfileError extends TsbuildError {
  override readonly exitCode = 2;
  constructor(
    readonly location: SourceLocation,
    readonly detail: string,
    /** The Dockerfile's lines, to print the offending ones with a caret. */
    readonly sourceLines?: string[],
    options?: ErrorOptions,
  ) {
    super(
      `${location.file}:${location.startLine}${location.column ? `:${location.column}` : ""}: ${detail}`,
      options,
    );
  }

  /** The message plus the offending source lines, numbered, with a caret under the column. */
  pretty(): string {
    if (!this.sourceLines) return this.message;
    const out = [this.message];
    const last = Math.min(this.location.endLine, this.location.startLine + 5);
    for (let n = this.location.startLine; n <= last; n++) {
      const text = this.sourceLines[n - 1];
      if (text === undefined) break;
      out.push(` ${String(n).padStart(4)} | ${text}`);
      if (n === this.location.startLine && this.location.column) {
        out.push(` ${" ".repeat(4)} | ${" ".repeat(this.location.column - 1)}^`);
      }
    }
    return out.join("\n");
  }
}

/** A build step failed at run time (a RUN exited non-zero, a COPY source vanished, ...). */
export class BuildStepError extends TsbuildError {
  override readonly exitCode = 1;
  constructor(
    message: string,
    readonly location?: SourceLocation,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The message of `err` whatever it is (an Error, or anything thrown). */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `err` and its causes, outermost first, each as its stack (or message): what `--debug` prints. */
export function causeChain(err: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  for (let e: unknown = err; e !== undefined && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    // The stack's first line was written when the error was made, before its name was set.
    const frames = e instanceof Error ? (e.stack ?? "").split("\n").slice(1).join("\n") : "";
    out.push(e instanceof Error ? `${e.name}: ${e.message}${frames ? `\n${frames}` : ""}` : String(e));
    if (!(e instanceof Error)) break;
  }
  return out;
}

/**
 * The command was cancelled by a signal: it stopped its work, cleaned up, and exits as a shell
 * reports a process killed by that signal (128 + its number: 130 for SIGINT, 143 for SIGTERM).
 */
export class InterruptedError extends TsbuildError {
  override readonly exitCode: number;
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted (${signal})`);
    this.exitCode = 128 + (SIGNAL_NUMBERS[signal] ?? 0);
  }
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/**
 * errno codes that say the machine failed, not the input: a full disk or quota, a read-only or
 * failing filesystem, no memory or file descriptors. Such an error inside a step is the build's
 * failure (exit 1), never a Dockerfile error (exit 2), whatever instruction met it.
 */
const SYSTEM_FAILURES = new Set(["ENOSPC", "EDQUOT", "EROFS", "EIO", "ENOMEM", "EMFILE", "ENFILE", "EFBIG"]);

/** The system failure (see SYSTEM_FAILURES) in `err`'s cause chain, if there is one. */
export function systemFailure(err: unknown): NodeJS.ErrnoException | undefined {
  const seen = new Set<unknown>();
  for (let e: unknown = err; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined && SYSTEM_FAILURES.has(code)) return e as NodeJS.ErrnoException;
  }
  return undefined;
}

/**
 * A Node system error as one line for a user: "no space left on device (writing /x/y)" rather than
 * "ENOSPC: no space left on device, copyfile '/tmp/tsbuild-mnt-QH2a/s' -> …". Paths in tsbuild's
 * own temp mounts mean nothing to a user and are left out; the step or object is named by the caller.
 */
export function systemErrorText(e: NodeJS.ErrnoException): string {
  const text = /^[A-Z0-9]+: ([^,]+)/.exec(e.message)?.[1] ?? e.message;
  const path = (e as { dest?: string }).dest ?? e.path;
  return path && !/\/tsbuild-(?:mnt|flat)-/.test(path) ? `${text} (writing ${path})` : text;
}

/** What went wrong, for a user: a system error's plain text (systemErrorText), else the message. */
export function describeError(err: unknown): string {
  const system = systemFailure(err);
  return system ? systemErrorText(system) : messageOf(err);
}
