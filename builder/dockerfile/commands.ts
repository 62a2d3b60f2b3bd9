// Parse tree → stages of typed commands. FROM lines and the ARGs before the first FROM are
// evaluated here (they only see build args); everything else stays unexpanded.
import { DockerfileError } from "../../src/errors.js";
import { InstructionConverter } from "./instructions.js";
import { NodeErrors, writtenKeyword } from "./node-error.js";
import { ShellLex } from "./shell.js";
import { validateStageReferences } from "./stages.js";
import type { Command, Node, ParseResult, Stage, StageSet } from "./types.js";

export { resolveStage, stageDependencies } from "./stages.js";

/** Build args that BuildKit defines itself; FROM sees them without an ARG declaring them. */
const AUTOMATIC_ARGS = [
  "BUILDPLATFORM",
  "BUILDOS",
  "BUILDARCH",
  "BUILDVARIANT",
  "TARGETPLATFORM",
  "TARGETOS",
  "TARGETARCH",
  "TARGETVARIANT",
];
const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

export interface StageSetOptions {
  /** --build-arg values; also the place for BUILDPLATFORM/TARGETPLATFORM and friends. */
  buildArgs: Record<string, string>;
}

type ArgCommand = Extract<Command, { kind: "ARG" }>;

class StageBuilder {
  private readonly errors: NodeErrors;
  private readonly converter: InstructionConverter;
  private readonly lex: ShellLex;
  /** Values of the meta ARGs, as FROM lines see them. */
  private readonly metaEnv = new Map<string, string>();
  readonly set: StageSet = { metaArgs: [], stages: [] };

  constructor(
    private readonly parse: ParseResult,
    private readonly buildArgs: Record<string, string>,
  ) {
    this.errors = new NodeErrors(parse.lines);
    this.converter = new InstructionConverter(this.errors);
    this.lex = new ShellLex(parse.directives.escape);
    for (const name of AUTOMATIC_ARGS) {
      const value = buildArgs[name];
      if (value !== undefined) this.metaEnv.set(name, value);
    }
  }

  build(): StageSet {
    for (const node of this.parse.nodes) {
      if (node.keyword === "from") {
        this.set.stages.push(this.stage(node));
        continue;
      }
      const cmd = this.converter.convert(node);
      const current = this.set.stages[this.set.stages.length - 1];
      if (current) current.commands.push(cmd);
      else if (cmd.kind === "ARG") this.addMetaArg(node, cmd);
      else {
        throw this.errors.at(
          node,
          `${writtenKeyword(node)} is not allowed before the first FROM (only ARG is)`,
        );
      }
    }
    if (this.set.stages.length === 0) {
      const last = this.parse.nodes[this.parse.nodes.length - 1]!;
      throw this.errors.at(last, "no build stage: the Dockerfile has no FROM instruction");
    }
    validateStageReferences(this.set, (cmd, detail) => {
      throw new DockerfileError(cmd.location, detail, this.parse.lines);
    });
    return this.set;
  }

  private expand(node: Node, word: string): string {
    try {
      return this.lex.processWord(word, (name) => this.metaEnv.get(name));
    } catch (e) {
      throw this.errors.at(node, (e as Error).message);
    }
  }

  private addMetaArg(node: Node, cmd: ArgCommand): void {
    this.set.metaArgs.push(cmd);
    for (const { key, value } of cmd.args) {
      const given = this.buildArgs[key];
      if (given !== undefined) this.metaEnv.set(key, given);
      else if (value !== undefined) this.metaEnv.set(key, this.expand(node, value));
    }
  }

  private stage(node: Node): Stage {
    const flags = this.converter.flags(node);
    const { args } = node;
    if (args.length !== 1 && !(args.length === 3 && args[1]!.toLowerCase() === "as")) {
      throw this.errors.at(node, "FROM requires either one or three arguments (FROM image [AS name])");
    }
    const baseName = this.expand(node, args[0]!);
    if (baseName === "") throw this.errors.at(node, `base name (${args[0]}) should not be blank`);
    const stage: Stage = {
      index: this.set.stages.length,
      baseName,
      commands: [],
      location: node.location,
      original: node.original,
    };
    if (args.length === 3) stage.name = this.stageName(node, args[2]!);
    const platform = flags.string("platform");
    if (platform !== undefined) stage.platform = this.expand(node, platform);
    return stage;
  }

  private stageName(node: Node, written: string): string {
    const name = this.expand(node, written).toLowerCase();
    if (!STAGE_NAME.test(name)) {
      throw this.errors.at(
        node,
        `invalid name for build stage: "${written}", name can't start with a number or contain symbols`,
        written,
      );
    }
    if (this.set.stages.some((s) => s.name === name)) {
      throw this.errors.at(node, `duplicate stage name "${name}"`, written);
    }
    return name;
  }
}

export function toStageSet(parse: ParseResult, opts: StageSetOptions): StageSet {
  return new StageBuilder(parse, opts.buildArgs).build();
}
