import { PatternMatcher } from "./dockerignore.js";
import type { PathFilter } from "./path-filter.js";

/** `COPY --exclude` patterns use .dockerignore syntax, relative to each source; none means no filter. */
export function excludeFilter(patterns: string[] | undefined): PathFilter | undefined {
  return patterns && patterns.length > 0 ? new PatternMatcher(patterns) : undefined;
}
