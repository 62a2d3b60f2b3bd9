// RUN --mount=type=...,key=value,... into a RunMount. Fields are CSV (a field may be quoted).
import path from "node:path";
import type { RunMount } from "./types.js";

const TYPES = new Set<RunMount["type"]>(["bind", "cache", "tmpfs", "secret", "ssh"]);
const SHARING = new Set<string>(["shared", "private", "locked"]);
const SIZE_UNITS: Record<string, number> = {
  "": 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

function csvFields(value: string): string[] {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (quoted) {
      if (ch === '"' && value[i + 1] === '"') field += value[++i];
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      fields.push(field);
      field = "";
    } else field += ch;
  }
  if (quoted) throw new Error(`unterminated quote in --mount=${value}`);
  fields.push(field);
  return fields.map((f) => f.trim()).filter((f) => f !== "");
}

function parseBool(key: string, value: string | undefined): boolean {
  if (value === undefined) return true;
  const lower = value.toLowerCase();
  if (lower === "true" || lower === "1") return true;
  if (lower === "false" || lower === "0") return false;
  throw new Error(`invalid value for ${key}: "${value}" (expected true or false)`);
}

function parseInteger(key: string, value: string, radix: number): number {
  const re = radix === 8 ? /^[0-7]+$/ : /^\d+$/;
  if (!re.test(value)) throw new Error(`invalid value for ${key}: "${value}"`);
  return Number.parseInt(value, radix);
}

function parseSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(value);
  if (!m) throw new Error(`invalid value for size: "${value}"`);
  return Math.round(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!);
}

function requireValue(key: string, value: string | undefined): string {
  if (value === undefined || value === "") throw new Error(`--mount option ${key} needs a value`);
  return value;
}

function applyField(mount: RunMount, key: string, value: string | undefined): void {
  switch (key) {
    case "type":
      break;
    case "target":
    case "dst":
    case "destination":
      mount.target = requireValue(key, value);
      break;
    case "source":
    case "src":
      mount.source = requireValue(key, value);
      break;
    case "from":
      mount.from = requireValue(key, value);
      break;
    case "readonly":
    case "ro":
      mount.readonly = parseBool(key, value);
      break;
    case "readwrite":
    case "rw":
      mount.readonly = !parseBool(key, value);
      break;
    case "id":
      mount.id = requireValue(key, value);
      break;
    case "sharing": {
      const v = requireValue(key, value);
      if (!SHARING.has(v))
        throw new Error(`unsupported sharing value "${v}" (expected shared, private or locked)`);
      mount.sharing = v as RunMount["sharing"];
      break;
    }
    case "mode":
      mount.mode = parseInteger(key, requireValue(key, value), 8);
      break;
    case "uid":
      mount.uid = parseInteger(key, requireValue(key, value), 10);
      break;
    case "gid":
      mount.gid = parseInteger(key, requireValue(key, value), 10);
      break;
    case "size":
      mount.size = parseSize(requireValue(key, value));
      break;
    case "required":
      mount.required = parseBool(key, value);
      break;
    case "env":
      mount.env = requireValue(key, value);
      break;
    default:
      throw new Error(
        `unexpected key '${key}' in --mount option '${key}${value === undefined ? "" : `=${value}`}'`,
      );
  }
}

/** Fills defaults the way BuildKit does and rejects mounts that cannot work. */
function completeMount(mount: RunMount): RunMount {
  if ((mount.type === "bind" || mount.type === "cache" || mount.type === "tmpfs") && !mount.target) {
    throw new Error(`--mount type=${mount.type} needs a target`);
  }
  if (mount.type === "secret") {
    if (!mount.id && !mount.target) throw new Error("--mount type=secret needs an id or a target");
    mount.id ??= path.posix.basename(mount.target!);
    if (!mount.target && !mount.env) mount.target = `/run/secrets/${mount.id}`;
  }
  if (mount.type === "ssh") mount.id ??= "default";
  if (mount.type === "cache") mount.id ??= mount.target;
  return mount;
}

export function parseRunMount(value: string): RunMount {
  const fields = csvFields(value).map((field) => {
    const eq = field.indexOf("=");
    return eq < 0
      ? { key: field.toLowerCase(), value: undefined }
      : { key: field.slice(0, eq).toLowerCase(), value: field.slice(eq + 1) };
  });
  const type = fields.find((f) => f.key === "type")?.value ?? "bind";
  if (!TYPES.has(type as RunMount["type"])) throw new Error(`unsupported mount type "${type}"`);
  const mount: RunMount = { type: type as RunMount["type"] };
  for (const f of fields) applyField(mount, f.key, f.value);
  return completeMount(mount);
}
