import { UsageError } from "../errors.js";

// The grammar of github.com/distribution/reference (what `docker build -t` accepts).
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";

const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const DIGEST_RE = new RegExp(`^${DIGEST}$`);
const MAX_NAME_LENGTH = 255;

/** Docker Hub's name in references; `index.docker.io` is an old alias of it. */
export const DOCKER_HUB = "docker.io";
const LEGACY_DOCKER_HUB = "index.docker.io";
/** Single-component Hub repositories live under this namespace. */
const OFFICIAL_NAMESPACE = "library";

export interface ParsedReference {
  /** host[:port] when the name starts with one (the first component has "." or ":" or is "localhost"). */
  registry?: string;
  /** The path after the registry, as given: no "library/" or "docker.io" is added. */
  repository: string;
  tag?: string;
  digest?: string;
}

/** A reference with Docker's defaults applied: always a registry, Hub repositories under "library/". */
export interface ImageReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

function invalid(name: string, why?: string): UsageError {
  return new UsageError(`invalid reference format: ${JSON.stringify(name)}${why ? ` (${why})` : ""}`);
}

/** Splits an image reference into its parts, checking the grammar. */
export function parseReference(name: string): ParsedReference {
  let rest = name;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw invalid(name, "malformed digest");
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  // A colon after the last slash separates the tag; one before it is a registry port.
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw invalid(name, "malformed tag");
  }
  if (rest.length === 0 || rest.length > MAX_NAME_LENGTH) throw invalid(name);

  let registry: string | undefined;
  let repository = rest;
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (
      first.includes(".") ||
      first.includes(":") ||
      first === "localhost" ||
      first !== first.toLowerCase()
    ) {
      registry = first;
      repository = rest.slice(slash + 1);
      if (!DOMAIN_RE.test(registry)) throw invalid(name, "malformed registry host");
    }
  }
  if (!PATH_RE.test(repository)) throw invalid(name);

  const out: ParsedReference = { repository };
  if (registry !== undefined) out.registry = registry;
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

/** Parses `name` and applies Docker's defaults (registry docker.io, "library/" for official images). */
export function resolveReference(name: string): ImageReference {
  const parsed = parseReference(name);
  let registry = parsed.registry ?? DOCKER_HUB;
  if (registry === LEGACY_DOCKER_HUB) registry = DOCKER_HUB;
  let repository = parsed.repository;
  if (registry === DOCKER_HUB && !repository.includes("/"))
    repository = `${OFFICIAL_NAMESPACE}/${repository}`;
  const out: ImageReference = { registry, repository };
  if (parsed.tag !== undefined) out.tag = parsed.tag;
  if (parsed.digest !== undefined) out.digest = parsed.digest;
  // Like Docker, a reference with neither tag nor digest means ":latest"; a digest alone stays alone.
  if (out.tag === undefined && out.digest === undefined) out.tag = "latest";
  return out;
}

/** The fully qualified string form: `registry/repository[:tag][@digest]`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ""}${
    ref.digest !== undefined ? `@${ref.digest}` : ""
  }`;
}

/**
 * The fully qualified name local images are stored under, as containerd and BuildKit do:
 * `busybox` → `docker.io/library/busybox:latest`, `localhost:5000/app` → `localhost:5000/app:latest`.
 */
export function normalizeImageName(name: string): string {
  return formatReference(resolveReference(name));
}

/** The short form Docker displays: `docker.io/library/hello:1` → `hello:1`, `docker.io/me/x` → `me/x`. */
export function familiarName(full: string): string {
  const hub = `${DOCKER_HUB}/`;
  if (!full.startsWith(hub)) return full;
  const rest = full.slice(hub.length);
  const official = `${OFFICIAL_NAMESPACE}/`;
  // "library/a/b" keeps its namespace: only single-component official names are shortened.
  if (rest.startsWith(official) && !rest.slice(official.length).split(/[:@]/)[0]!.includes("/")) {
    return rest.slice(official.length);
  }
  return rest;
}
