// Where the compiled native parts live. Found from this module's own location, so that it works from
// the sources (native/*.ts under vitest) and from the compiled tree, unless the CLI's start-up
// snapshot says where the package is (a snapshot's module locations are those of the machine that
// built it, so cli/main.ts passes the real root in with setPackageRoot).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

/** Overrides where the package (package.json, native/build, node_modules) is. */
export function setPackageRoot(dir: string): void {
  root = dir;
}

/** The directory holding tsbuild's package.json. */
export function packageRoot(): string {
  return (root ??= findPackageRoot(fileURLToPath(import.meta.url)));
}

function findPackageRoot(self: string): string {
  for (let dir = dirname(self); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`tsbuild: no package.json above ${self}`);
  }
}

/** Directory of the addon and the launcher binaries (built by `make -C native`). */
export function nativeBuildDir(): string {
  return join(packageRoot(), "native", "build");
}
export function addonPath(): string {
  return join(nativeBuildDir(), "tsbuild_native.node");
}
/** The sandbox launcher: `tsbuild-sandbox --spec FILE [--result-fd N]`. */
export function sandboxBin(): string {
  return join(nativeBuildDir(), "tsbuild-sandbox");
}
/** `tsbuild-unshare CMD ARGS...`: CMD in a private mount namespace (mounts die with it). */
export function unshareBin(): string {
  return join(nativeBuildDir(), "tsbuild-unshare");
}
