// WORKDIR's layer step: the directory made to exist (a layer only when it did not).
import { mkdirSync } from "node:fs";
import { posix } from "node:path";
import { withMounts } from "../../snapshotter/mount.js";
import { resolveInRoot } from "../context/securejoin.js";
import type { LayerOp } from "./op.js";

export function workdirOp(path: string): LayerOp {
  return {
    kind: "WORKDIR",
    inputs: { path },
    exec: (mounts) =>
      withMounts(mounts, async (root) => {
        mkdirSync(resolveInRoot(root, posix.resolve("/", path)), { recursive: true, mode: 0o755 });
        return {};
      }),
  };
}
