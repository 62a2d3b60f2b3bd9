/** One challenge of a WWW-Authenticate header (RFC 7235), e.g. `Bearer realm="…",service="…",scope="…"`. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const PARAM_RE = /\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/y;

/** Parses the first challenge of a WWW-Authenticate header; the scheme is lowercased. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*([A-Za-z][A-Za-z0-9_-]*)\s*/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  PARAM_RE.lastIndex = m[0].length;
  for (let p = PARAM_RE.exec(header); p; p = PARAM_RE.exec(header)) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : (p[3] ?? "");
  }
  return { scheme: m[1]!.toLowerCase(), params };
}
