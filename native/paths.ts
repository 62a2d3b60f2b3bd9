// Where the compiled native parts live, found from this module's own location so that it works
// from the sources (native/*.ts under vitest) and from the compiled tree (dist/native/*.js).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function packageRoot(): string {
  const self = fileURLToPath(import.meta.url);
  for (let dir = dirname(self); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`tsbuild: no package.json above ${self}`);
  }
}

/** Directory of the addon and the launcher binaries (built by `make -C native`). */
export const NATIVE_BUILD_DIR = join(packageRoot(), "native", "build");
export const ADDON_PATH = join(NATIVE_BUILD_DIR, "tsbuild_native.node");
/** The sandbox launcher: `tsbuild-sandbox --spec FILE [--result-fd N]`. */
export const SANDBOX_BIN = join(NATIVE_BUILD_DIR, "tsbuild-sandbox");
/** `tsbuild-unshare CMD ARGS...`: CMD in a private mount namespace (mounts die with it). */
export const UNSHARE_BIN = join(NATIVE_BUILD_DIR, "tsbuild-unshare");
