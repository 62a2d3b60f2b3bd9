// `--cache-to` / `--cache-from` specs, as BuildKit spells them: `type=registry,ref=HOST/REPO:TAG,mode=max`,
// `type=local,dest=DIR` / `type=local,src=DIR` (optional `tag=`), or a bare reference for a registry.
import { UsageError } from "../../../src/errors.js";
import { resolveReference } from "../../../src/oci/reference.js";

/** min: the records of the built target's layers; max: every step of the build. */
export type CacheMode = "min" | "max";

export type CacheLocation = { type: "registry"; ref: string } | { type: "local"; dir: string; tag: string };

export type CacheExportSpec = CacheLocation & { mode: CacheMode };
export type CacheImportSpec = CacheLocation;

/** The tag an OCI layout cache is stored under when `tag=` is not given. */
export const DEFAULT_LOCAL_TAG = "cache";

function fields(flag: string, spec: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of spec.split(",")) {
    if (!part) continue;
    const i = part.indexOf("=");
    if (i <= 0) throw new UsageError(`${flag} ${spec}: expected KEY=VALUE, got ${JSON.stringify(part)}`);
    out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

function location(flag: string, spec: string, f: Map<string, string>, dirKey: "src" | "dest"): CacheLocation {
  const type = f.get("type") ?? "registry";
  if (type === "registry") {
    const ref = f.get("ref");
    if (!ref) throw new UsageError(`${flag} ${spec}: type=registry needs ref=HOST/REPO:TAG`);
    try {
      resolveReference(ref);
    } catch (err) {
      throw new UsageError(`${flag} ${spec}: ${(err as Error).message}`, { cause: err });
    }
    return { type, ref };
  }
  if (type === "local") {
    const dir = f.get(dirKey);
    if (!dir) throw new UsageError(`${flag} ${spec}: type=local needs ${dirKey}=DIR`);
    const tag = f.get("tag") || DEFAULT_LOCAL_TAG;
    return { type, dir, tag };
  }
  throw new UsageError(
    `${flag} ${spec}: unknown cache type ${JSON.stringify(type)} (expected registry or local)`,
  );
}

function checkKeys(flag: string, spec: string, f: Map<string, string>, allowed: string[]): void {
  for (const k of f.keys()) {
    if (!allowed.includes(k))
      throw new UsageError(
        `${flag} ${spec}: unknown option ${JSON.stringify(k)} (expected ${allowed.join(", ")})`,
      );
  }
}

/** A bare `HOST/REPO:TAG` (no `=`) is shorthand for `type=registry,ref=HOST/REPO:TAG`. */
function shorthand(spec: string): string {
  return spec.includes("=") ? spec : `type=registry,ref=${spec}`;
}

export function parseCacheTo(spec: string): CacheExportSpec {
  const f = fields("--cache-to", shorthand(spec));
  const type = f.get("type") ?? "registry";
  checkKeys(
    "--cache-to",
    spec,
    f,
    type === "local" ? ["type", "dest", "tag", "mode"] : ["type", "ref", "mode"],
  );
  const mode = f.get("mode") ?? "min";
  if (mode !== "min" && mode !== "max")
    throw new UsageError(`--cache-to ${spec}: mode=${mode}: expected min or max`);
  return { ...location("--cache-to", spec, f, "dest"), mode };
}

export function parseCacheFrom(spec: string): CacheImportSpec {
  const f = fields("--cache-from", shorthand(spec));
  const type = f.get("type") ?? "registry";
  checkKeys("--cache-from", spec, f, type === "local" ? ["type", "src", "tag"] : ["type", "ref"]);
  return location("--cache-from", spec, f, "src");
}

/** How a location is named in messages. */
export function describeLocation(loc: CacheLocation): string {
  return loc.type === "registry" ? loc.ref : `${loc.dir} (tag ${loc.tag})`;
}
