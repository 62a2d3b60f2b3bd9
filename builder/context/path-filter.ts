/**
 * What the walker needs of a .dockerignore (or `COPY --exclude`) matcher. dockerignore.ts's PatternMatcher
 * has this shape; the walker depends only on the shape.
 */
export interface PathFilter {
  /** True when the path (relative, "/"-separated, no leading "./") is excluded. */
  matches(relPath: string): boolean;
  /** False only when nothing below this excluded directory can be re-included, so it need not be walked. */
  mayContainIncluded(dirRelPath: string): boolean;
}

/** A filter that sees paths relative to a subdirectory, for a matcher whose patterns are relative to `prefix`. */
export function filterBelow(filter: PathFilter, prefix: string): PathFilter {
  if (prefix === "") return filter;
  return {
    matches: (rel) => filter.matches(joinRel(prefix, rel)),
    mayContainIncluded: (rel) => filter.mayContainIncluded(joinRel(prefix, rel)),
  };
}

/** Excludes what any filter excludes; an excluded directory is walked when every filter excluding it allows. */
export function combineFilters(filters: (PathFilter | undefined)[]): PathFilter | undefined {
  const active = filters.filter((f): f is PathFilter => f !== undefined);
  if (active.length <= 1) return active[0];
  return {
    matches: (rel) => active.some((f) => f.matches(rel)),
    mayContainIncluded: (rel) => active.every((f) => !f.matches(rel) || f.mayContainIncluded(rel)),
  };
}

/** Joins two relative "/"-separated paths where "" stands for the directory itself. */
export function joinRel(a: string, b: string): string {
  if (a === "") return b;
  if (b === "") return a;
  return `${a}/${b}`;
}
