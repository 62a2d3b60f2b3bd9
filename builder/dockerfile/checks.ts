// Build checks (BuildKit's linter rules) that need no build context or base image: warnings as
// data. The "# check=skip=A,B" directive turns rules off ("skip=all" all of them); "error=true"
// makes any check that fires fail the build, as BuildKit does.
import { writtenKeyword } from "./node-error.js";
import type { Node, ParseResult, Warning } from "./types.js";

const SINGLE_USE = new Set(["cmd", "entrypoint", "healthcheck"]);

function warning(code: string, message: string, node: Node): Warning {
  return { code, message, location: node.location };
}

function skippedRules(check: string | undefined): Set<string> | "all" {
  const skip = check
    ?.split(";")
    .map((part) => part.trim())
    .find((part) => part.toLowerCase().startsWith("skip="));
  const names = skip
    ? skip
        .slice(5)
        .split(",")
        .map((s) => s.trim())
    : [];
  return names.includes("all") ? "all" : new Set(names);
}

/** `# check=…;error=true`: whether a fired check fails the build. */
export function checksAreErrors(parse: ParseResult): boolean {
  return (parse.directives.check ?? "")
    .split(";")
    .map((part) => part.trim().toLowerCase().replace(/\s+/g, ""))
    .includes("error=true");
}

function casingOf(word: string): "upper" | "lower" | "mixed" {
  if (word === word.toUpperCase()) return "upper";
  if (word === word.toLowerCase()) return "lower";
  return "mixed";
}

function fromChecks(node: Node): Warning[] {
  const out: Warning[] = [];
  const [, as, name] = node.args;
  if (as === undefined || name === undefined) return out;
  if (name !== name.toLowerCase())
    out.push(warning("StageNameCasing", `Stage name '${name}' should be lowercase`, node));
  const from = writtenKeyword(node);
  const fromCase = casingOf(from);
  if (fromCase !== "mixed" && casingOf(as) !== fromCase) {
    out.push(warning("FromAsCasing", `'${as}' and '${from}' keywords' casing do not match`, node));
  }
  return out;
}

function nodeChecks(node: Node): Warning[] {
  const kw = node.keyword.toUpperCase();
  switch (node.keyword) {
    case "from":
      return fromChecks(node);
    case "cmd":
    case "entrypoint":
      return !node.json && node.args.length > 0
        ? [
            warning(
              "JSONArgsRecommended",
              `JSON arguments recommended for ${kw} to prevent unintended behavior related to OS signals`,
              node,
            ),
          ]
        : [];
    case "env":
    case "label":
      return node.args[2] === ""
        ? [
            warning(
              "LegacyKeyValueFormat",
              `"${kw} key=value" should be used instead of legacy "${kw} key value" format`,
              node,
            ),
          ]
        : [];
    case "maintainer":
      return [
        warning("MaintainerDeprecated", "Maintainer instruction is deprecated in favor of using label", node),
      ];
    default:
      return [];
  }
}

/** Only the last CMD/ENTRYPOINT/HEALTHCHECK of a stage has any effect. */
function singleUseChecks(nodes: Node[]): Warning[] {
  const out: Warning[] = [];
  let lastSeen = new Map<string, Node>();
  for (const node of nodes) {
    if (node.keyword === "from") lastSeen = new Map();
    if (!SINGLE_USE.has(node.keyword)) continue;
    const previous = lastSeen.get(node.keyword);
    if (previous) {
      const kw = node.keyword.toUpperCase();
      out.push(
        warning(
          "MultipleInstructionsDisallowed",
          `Multiple ${kw} instructions should not be used in the same stage because only the last one will be used`,
          previous,
        ),
      );
    }
    lastSeen.set(node.keyword, node);
  }
  return out;
}

/** Keywords should all be upper case or all lower case; flags the minority. */
function casingChecks(nodes: Node[]): Warning[] {
  const casings = nodes.map((n) => casingOf(writtenKeyword(n)));
  const upper = casings.filter((c) => c === "upper").length;
  const lower = casings.filter((c) => c === "lower").length;
  const majority = lower > upper ? "lower" : "upper";
  return nodes
    .filter((_, i) => casings[i] !== majority)
    .map((n) =>
      warning(
        "ConsistentInstructionCasing",
        `Command '${writtenKeyword(n)}' should match the case of the command majority (${majority}case)`,
        n,
      ),
    );
}

export function checkDockerfile(parse: ParseResult): Warning[] {
  const warnings = [
    ...parse.nodes.flatMap(nodeChecks),
    ...singleUseChecks(parse.nodes),
    ...casingChecks(parse.nodes),
  ].sort((a, b) => (a.location?.startLine ?? 0) - (b.location?.startLine ?? 0));
  const skipped = skippedRules(parse.directives.check);
  if (skipped === "all") return [];
  return warnings.filter((w) => !skipped.has(w.code));
}
