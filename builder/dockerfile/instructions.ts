// One parse-tree node → one typed Command (all instructions but FROM, which makes a stage).
// Words stay unexpanded; validation that needs no environment happens here.
import { isValidChmod } from "./chmod.js";
import { parseGoDuration } from "./duration.js";
import { FlagError, type FlagSpec, FlagValues } from "./flags.js";
import { heredocMarkersInLine } from "./heredoc.js";
import { parseRunMount } from "./mounts.js";
import { type NodeErrors, writtenKeyword } from "./node-error.js";
import { didYouMean } from "./suggest.js";
import type { Command, Node, RunMount } from "./types.js";

export const INSTRUCTIONS = [
  "FROM",
  "RUN",
  "CMD",
  "ENTRYPOINT",
  "SHELL",
  "ENV",
  "LABEL",
  "ARG",
  "COPY",
  "ADD",
  "WORKDIR",
  "USER",
  "EXPOSE",
  "VOLUME",
  "STOPSIGNAL",
  "HEALTHCHECK",
  "ONBUILD",
  "MAINTAINER",
] as const;

const FLAGS: Record<string, FlagSpec> = {
  from: { platform: "string" },
  run: { mount: "list", network: "string" },
  copy: { from: "string", chown: "string", chmod: "string", link: "bool", parents: "bool", exclude: "list" },
  add: {
    chown: "string",
    chmod: "string",
    link: "bool",
    exclude: "list",
    checksum: "string",
    "keep-git-dir": "bool",
  },
  healthcheck: {
    interval: "string",
    timeout: "string",
    "start-period": "string",
    "start-interval": "string",
    retries: "string",
  },
};

const NETWORKS = new Set(["default", "none", "host"]);
const MIN_INTERVAL_NS = 1e6;

type Base = { location: Node["location"]; original: string };

export class InstructionConverter {
  constructor(private readonly errors: NodeErrors) {}

  flags(node: Node): FlagValues {
    const spec = FLAGS[node.keyword] ?? {};
    const names = Object.keys(spec).map((n) => `--${n}`);
    try {
      return new FlagValues(node.flags, spec, (name) => didYouMean(`--${name}`, names));
    } catch (e) {
      if (e instanceof FlagError) throw this.errors.at(node, e.message, e.word);
      throw e;
    }
  }

  fail(node: Node, detail: string, word?: string): never {
    throw this.errors.at(node, detail, word);
  }

  /** Throws "unknown instruction" (with a suggestion) for keywords BuildKit does not know. */
  checkKnown(node: Node): void {
    if ((INSTRUCTIONS as readonly string[]).includes(node.keyword.toUpperCase())) return;
    const written = writtenKeyword(node);
    this.fail(node, `unknown instruction: ${written}${didYouMean(written, INSTRUCTIONS)}`);
  }

  convert(node: Node): Command {
    this.checkKnown(node);
    const base: Base = { location: node.location, original: node.original };
    const kw = node.keyword.toUpperCase();
    const flags = this.flags(node);
    const { args } = node;
    const need = (min: number, what: string) => {
      if (args.length < min) this.fail(node, `${kw} requires ${what}`);
    };
    switch (node.keyword) {
      case "run":
        return {
          ...base,
          kind: "RUN",
          args,
          shellForm: !node.json,
          heredocs: node.heredocs,
          ...this.runOptions(node, flags),
        };
      case "cmd":
      case "entrypoint":
        return { ...base, kind: node.keyword === "cmd" ? "CMD" : "ENTRYPOINT", args, shellForm: !node.json };
      case "shell":
        if (!node.json) this.fail(node, "SHELL requires the arguments to be in JSON form");
        need(1, "at least one argument");
        return { ...base, kind: "SHELL", args };
      case "env":
      case "label":
        return { ...base, kind: node.keyword === "env" ? "ENV" : "LABEL", pairs: this.pairs(node, kw) };
      case "arg":
        need(1, "at least one argument");
        return { ...base, kind: "ARG", args: args.map((word) => this.argDefinition(node, word)) };
      case "copy":
      case "add":
        return this.copy(node, base, flags);
      case "workdir":
        need(1, "exactly one argument");
        return { ...base, kind: "WORKDIR", path: args[0]! };
      case "user":
        need(1, "exactly one argument");
        return { ...base, kind: "USER", user: args[0]! };
      case "stopsignal":
        need(1, "exactly one argument");
        return { ...base, kind: "STOPSIGNAL", signal: args[0]! };
      case "maintainer":
        need(1, "exactly one argument");
        return { ...base, kind: "MAINTAINER", name: args[0]! };
      case "expose":
        need(1, "at least one argument");
        return { ...base, kind: "EXPOSE", ports: args };
      case "volume":
        need(1, "at least one argument");
        if (args.some((a) => a.trim() === "")) this.fail(node, "VOLUME specified can not be an empty string");
        return { ...base, kind: "VOLUME", paths: args };
      case "healthcheck":
        return this.healthcheck(node, base, flags);
      case "onbuild":
        return this.onbuild(node, base);
      default:
        return this.fail(node, `${kw} must be handled as a stage start, not as a command`);
    }
  }

  private runOptions(
    node: Node,
    flags: FlagValues,
  ): { mounts: RunMount[]; network?: "default" | "none" | "host" } {
    const mounts = flags.list("mount").map((value) => {
      try {
        return parseRunMount(value);
      } catch (e) {
        return this.fail(node, `invalid --mount=${value}: ${(e as Error).message}`, "--mount");
      }
    });
    const network = flags.string("network");
    if (network === undefined) return { mounts };
    if (!NETWORKS.has(network)) {
      this.fail(node, `unsupported network mode "${network}" (expected default, none or host)`, "--network");
    }
    return { mounts, network: network as "default" | "none" | "host" };
  }

  private pairs(node: Node, kw: string): { key: string; value: string }[] {
    if (node.args.length === 0) this.fail(node, `${kw} requires at least one argument`);
    const pairs: { key: string; value: string }[] = [];
    for (let i = 0; i + 1 < node.args.length; i += 3) {
      const key = node.args[i]!;
      if (key === "") this.fail(node, `${kw} names can not be blank`);
      pairs.push({ key, value: node.args[i + 1]! });
    }
    return pairs;
  }

  private argDefinition(node: Node, word: string): { key: string; value?: string } {
    const eq = word.indexOf("=");
    const key = eq < 0 ? word : word.slice(0, eq);
    if (key === "") this.fail(node, "ARG names can not be blank");
    return eq < 0 ? { key } : { key, value: word.slice(eq + 1) };
  }

  private copy(node: Node, base: Base, flags: FlagValues): Command {
    const kind = node.keyword === "copy" ? "COPY" : "ADD";
    if (node.args.length < 2) {
      this.fail(
        node,
        `${kind} requires at least two arguments, but only ${node.args.length} provided (sources... destination)`,
      );
    }
    const chmod = flags.string("chmod");
    // A variable in --chmod is expanded later; only a literal mode can be checked now.
    if (chmod !== undefined && !chmod.includes("$") && !isValidChmod(chmod)) {
      this.fail(
        node,
        `invalid --chmod=${chmod}: use an octal mode like 0755 or a symbolic one like u+x,g=r`,
        "--chmod",
      );
    }
    const heredocNames = new Set(node.heredocs.map((h) => h.name));
    const isHeredocWord = (w: string) => heredocMarkersInLine(w).some((m) => heredocNames.has(m.name));
    const cmd: Command = {
      ...base,
      kind,
      sources: node.args.slice(0, -1).filter((w) => !isHeredocWord(w)),
      dest: node.args[node.args.length - 1]!,
      link: flags.bool("link"),
      parents: flags.bool("parents"),
      exclude: flags.list("exclude"),
      heredocs: node.heredocs,
    };
    const from = flags.string("from");
    const chown = flags.string("chown");
    const checksum = flags.string("checksum");
    const keepGitDir = flags.boolOrUndefined("keep-git-dir");
    if (from !== undefined) cmd.from = from;
    if (chown !== undefined) cmd.chown = chown;
    if (chmod !== undefined) cmd.chmod = chmod;
    if (checksum !== undefined) cmd.checksum = checksum;
    if (keepGitDir !== undefined) cmd.keepGitDir = keepGitDir;
    return cmd;
  }

  private duration(node: Node, flags: FlagValues, name: string): number | undefined {
    const text = flags.string(name);
    if (text === undefined || text === "") return undefined;
    let ns: number;
    try {
      ns = parseGoDuration(text);
    } catch (e) {
      return this.fail(node, `--${name}: ${(e as Error).message}`, `--${name}`);
    }
    if (ns !== 0 && ns < MIN_INTERVAL_NS)
      this.fail(node, `--${name}=${text} cannot be less than 1ms`, `--${name}`);
    return ns;
  }

  private healthcheck(node: Node, base: Base, flags: FlagValues): Command {
    const type = node.args[0]?.toUpperCase();
    if (type === undefined) return this.fail(node, "HEALTHCHECK requires an argument (CMD or NONE)");
    if (type === "NONE") {
      if (node.args.length > 1 || node.flags.length > 0)
        this.fail(node, "HEALTHCHECK NONE takes no arguments");
      return { ...base, kind: "HEALTHCHECK", test: null, shellForm: false };
    }
    if (type !== "CMD") this.fail(node, `Unknown type "${node.args[0]}" in HEALTHCHECK (try CMD)`);
    const test = node.args.slice(1);
    if (test.length === 0) this.fail(node, "Missing command after HEALTHCHECK CMD");
    const cmd: Command = { ...base, kind: "HEALTHCHECK", test, shellForm: !node.json };
    const interval = this.duration(node, flags, "interval");
    const timeout = this.duration(node, flags, "timeout");
    const startPeriod = this.duration(node, flags, "start-period");
    const startInterval = this.duration(node, flags, "start-interval");
    if (interval !== undefined) cmd.interval = interval;
    if (timeout !== undefined) cmd.timeout = timeout;
    if (startPeriod !== undefined) cmd.startPeriod = startPeriod;
    if (startInterval !== undefined) cmd.startInterval = startInterval;
    const retries = flags.string("retries");
    if (retries !== undefined) {
      if (!/^-?\d+$/.test(retries)) this.fail(node, `--retries=${retries} is not an integer`, "--retries");
      if (Number(retries) < 0) this.fail(node, `--retries cannot be negative (${retries})`, "--retries");
      cmd.retries = Number(retries);
    }
    return cmd;
  }

  private onbuild(node: Node, base: Base): Command {
    const trigger = node.next;
    if (!trigger) return this.fail(node, "ONBUILD requires at least one argument");
    if (trigger.keyword === "onbuild")
      this.fail(node, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    if (trigger.keyword === "from" || trigger.keyword === "maintainer") {
      this.fail(node, `${trigger.keyword.toUpperCase()} isn't allowed as an ONBUILD trigger`);
    }
    // Validate the trigger now, so that a broken one fails this build and not a later one.
    this.convert(trigger);
    return { ...base, kind: "ONBUILD", expression: trigger.original.trim() };
  }
}
