// Errors a user can cause. Each names the thing it is about; the CLI maps them to exit codes
// (DESIGN.md: 0 success, 1 build failed, 2 usage or Dockerfile error).

export class TsbuildError extends Error {
  readonly exitCode: number = 1;
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
  ) {
    super(`${location.file}:${location.startLine}${location.column ? `:${location.column}` : ""}: ${detail}`);
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
  ) {
    super(message);
  }
}
