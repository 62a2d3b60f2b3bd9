// Per-instruction argument splitting, exactly as BuildKit's parser does it (see the table in
// shared/conformance/README.md §1). No expansion happens here.
import { isSpace, trimLeftSpace, WHITESPACE_RUN } from "./chars.js";
import { splitWordsKeepingQuotes } from "./words.js";

export interface SplitArgs {
  args: string[];
  json: boolean;
  /** For ONBUILD: the rest of the line, to be parsed as a nested instruction. */
  nested?: string;
}

/** Valid JSON that is not an array of strings: an error, not a fallback to shell form. */
export class NotStringArrayError extends Error {
  constructor() {
    super("JSON array arguments must be strings");
  }
}

function parseJSONArray(rest: string): string[] | undefined {
  const text = trimLeftSpace(rest);
  if (!text.startsWith("[")) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((v): v is string => typeof v === "string")) throw new NotStringArrayError();
  return value;
}

function whitespaceDelimited(rest: string): SplitArgs {
  return { args: rest === "" ? [] : rest.split(WHITESPACE_RUN), json: false };
}

function maybeJSON(rest: string): SplitArgs {
  if (rest === "") return { args: [], json: false };
  const arr = parseJSONArray(rest);
  return arr ? { args: arr, json: true } : { args: [rest], json: false };
}

function maybeJSONToList(rest: string): SplitArgs {
  const arr = parseJSONArray(rest);
  return arr ? { args: arr, json: true } : whitespaceDelimited(rest);
}

function wholeString(rest: string): SplitArgs {
  return { args: rest === "" ? [] : [rest], json: false };
}

/** ENV and LABEL: name, value, separator triples; "=" form or the legacy "name value" form. */
function nameValues(keyword: string, rest: string, escapeToken: string): SplitArgs {
  const words = splitWordsKeepingQuotes(rest, escapeToken);
  if (words.length === 0) return { args: [], json: false };
  if (!words[0]!.includes("=")) {
    const m = /[\t\v\f\r ]+/.exec(rest);
    if (!m) throw new Error(`${keyword.toUpperCase()} must have two arguments`);
    return { args: [rest.slice(0, m.index), rest.slice(m.index + m[0].length), ""], json: false };
  }
  const args: string[] = [];
  for (const word of words) {
    const eq = word.indexOf("=");
    if (eq < 0) {
      throw new Error(`Syntax error - can't find = in "${word}". Must be of the form: name=value`);
    }
    args.push(word.slice(0, eq), word.slice(eq + 1), "=");
  }
  return { args, json: false };
}

/** HEALTHCHECK: the type word (CMD, NONE, ...), then the rest like CMD. */
function healthcheck(rest: string): SplitArgs {
  const chars = Array.from(rest);
  let sep = 0;
  while (sep < chars.length && !isSpace(chars[sep]!)) sep++;
  if (sep === 0) return { args: [], json: false };
  let next = sep;
  while (next < chars.length && isSpace(chars[next]!)) next++;
  const cmd = maybeJSON(chars.slice(next).join(""));
  return { args: [chars.slice(0, sep).join(""), ...cmd.args], json: cmd.json };
}

export function splitArgs(keyword: string, rest: string, escapeToken: string): SplitArgs {
  switch (keyword) {
    case "run":
    case "cmd":
    case "entrypoint":
    case "shell":
      return maybeJSON(rest);
    case "add":
    case "copy":
    case "volume":
      return maybeJSONToList(rest);
    case "from":
    case "expose":
      return whitespaceDelimited(rest);
    case "maintainer":
    case "user":
    case "workdir":
    case "stopsignal":
      return wholeString(rest);
    case "env":
    case "label":
      return nameValues(keyword, rest, escapeToken);
    case "arg":
      return { args: splitWordsKeepingQuotes(rest, escapeToken), json: false };
    case "healthcheck":
      return healthcheck(rest);
    case "onbuild":
      return rest === "" ? { args: [], json: false } : { args: [], json: false, nested: rest };
    default:
      // Upstream drops the arguments of unknown instructions but keeps one empty word.
      return { args: [""], json: false };
  }
}
