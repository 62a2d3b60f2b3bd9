// zstd-napi is a native addon, so it loads on first use rather than at import: the CLI's start-up
// snapshot evaluates every module while it is built, and an addon's handles cannot be serialized.
import { createRequire } from "node:module";
import { join } from "node:path";
import type * as ZstdNapi from "zstd-napi";
import { packageRoot } from "../native/paths.js";

let loaded: typeof ZstdNapi | undefined;

export function zstdNapi(): typeof ZstdNapi {
  return (loaded ??= createRequire(join(packageRoot(), "package.json"))("zstd-napi") as typeof ZstdNapi);
}
