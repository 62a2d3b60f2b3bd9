// The frontend's output. The frontend knows nothing of execution: words stay unexpanded here
// (the dispatcher expands them with the stage's env, which depends on the base image), except
// FROM and global ARGs, which only see build args.
import type { SourceLocation } from "../../src/errors.js";

export type { SourceLocation };

export interface Heredoc {
  /** Delimiter word without quotes, e.g. "EOF". */
  name: string;
  /** Body, lines joined with "\n" and ending with "\n"; tabs already stripped for "<<-". */
  content: string;
  /** False when the delimiter was quoted ("EOF" or 'EOF'): no expansion in the body. */
  expand: boolean;
  /** For "3<<EOF"-style redirections, the file descriptor; otherwise undefined. */
  fd?: number;
}

/** One instruction of the parse tree (BuildKit's parser.Node). */
export interface Node {
  /** Lower-case keyword as rendered by the conformance format ("from", "run", ...). */
  keyword: string;
  /** Leading --flag words, quotes/escapes processed, e.g. "--from=build". */
  flags: string[];
  /** Argument words, split per instruction as the conformance README describes. */
  args: string[];
  /** True when the arguments were a JSON array (exec form). */
  json: boolean;
  heredocs: Heredoc[];
  /** The nested instruction of ONBUILD. */
  next?: Node;
  /** The instruction text as written (continuations joined), for history and error messages. */
  original: string;
  location: SourceLocation;
}

export interface Directives {
  syntax?: string;
  escape: "\\" | "`";
  check?: string;
}

export interface Warning {
  code: string; // e.g. "JSONArgsRecommended", "EmptyContinuation"
  message: string;
  location?: SourceLocation;
}

export interface ParseResult {
  nodes: Node[];
  directives: Directives;
  /** Raw lines of the file (no line terminators), for error display. */
  lines: string[];
  warnings: Warning[];
}

// ---- Typed commands (after flag parsing and validation; words unexpanded) ----

interface CommandBase {
  location: SourceLocation;
  /** The instruction as written, e.g. "RUN make -j2", used in history and progress. */
  original: string;
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface RunMount {
  type: "bind" | "cache" | "tmpfs" | "secret" | "ssh";
  target?: string;
  source?: string;
  from?: string;
  readonly?: boolean;
  id?: string;
  sharing?: "shared" | "private" | "locked";
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  required?: boolean;
  env?: string;
}

export type Command =
  | (CommandBase & {
      kind: "RUN";
      args: string[];
      shellForm: boolean;
      heredocs: Heredoc[];
      mounts: RunMount[];
      network?: "default" | "none" | "host";
    })
  | (CommandBase & { kind: "CMD" | "ENTRYPOINT"; args: string[]; shellForm: boolean })
  | (CommandBase & { kind: "SHELL"; args: string[] })
  | (CommandBase & { kind: "ENV" | "LABEL"; pairs: KeyValue[] })
  | (CommandBase & { kind: "ARG"; args: { key: string; value?: string }[] })
  | (CommandBase & {
      kind: "COPY" | "ADD";
      sources: string[];
      dest: string;
      from?: string;
      chown?: string;
      chmod?: string;
      link: boolean;
      parents: boolean;
      exclude: string[];
      checksum?: string;
      keepGitDir?: boolean;
      heredocs: Heredoc[];
    })
  | (CommandBase & { kind: "WORKDIR"; path: string })
  | (CommandBase & { kind: "USER"; user: string })
  | (CommandBase & { kind: "EXPOSE"; ports: string[] })
  | (CommandBase & { kind: "VOLUME"; paths: string[] })
  | (CommandBase & { kind: "STOPSIGNAL"; signal: string })
  | (CommandBase & {
      kind: "HEALTHCHECK";
      /** null for HEALTHCHECK NONE */
      test: string[] | null;
      shellForm: boolean;
      interval?: number; // nanoseconds, as the image config stores them
      timeout?: number;
      startPeriod?: number;
      startInterval?: number;
      retries?: number;
    })
  | (CommandBase & { kind: "ONBUILD"; expression: string })
  | (CommandBase & { kind: "MAINTAINER"; name: string });

export type CommandKind = Command["kind"];

export interface Stage {
  /** Position in the file, 0-based. */
  index: number;
  /** Lower-cased AS name, if any. */
  name?: string;
  /** The FROM word with global ARGs (and --build-arg values) already expanded. */
  baseName: string;
  platform?: string;
  commands: Command[];
  /** Location of the FROM line. */
  location: SourceLocation;
  original: string;
}

export interface StageSet {
  /** ARG instructions before the first FROM. */
  metaArgs: Extract<Command, { kind: "ARG" }>[];
  stages: Stage[];
}

/** Looks a variable up; undefined means unset. */
export type EnvLookup = (name: string) => string | undefined;

export interface ExpansionResult {
  result: string;
  /** Names that were referenced and set. */
  matched: Set<string>;
  /** Names that were referenced but unset. */
  unmatched: Set<string>;
}
