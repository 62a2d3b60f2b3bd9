// The CLI's entry point, run two ways. Plainly (`node main.cjs ARGS`), it runs the command. Under
// `node --build-snapshot main.cjs` it only registers the command as the snapshot's main function:
// `node --snapshot-blob main.blob -- ARGS` then starts with every module already evaluated, which
// saves about 40 ms of the 100 ms a cached rebuild takes (bin/tsbuild picks the way).
import { dirname, resolve } from "node:path";
import { startupSnapshot } from "node:v8";
import { setPackageRoot } from "../native/paths.js";
import { runCli } from "./program.js";

if (startupSnapshot.isBuildingSnapshot()) {
  startupSnapshot.setDeserializeMainFunction(() => {
    // Module locations inside a snapshot are those of the build; the blob's own path is the truth.
    const blob = snapshotBlobPath();
    if (blob !== undefined) setPackageRoot(dirname(dirname(dirname(resolve(blob)))));
    // A snapshot's argv has no script: the arguments start at argv[1].
    void runCli(process.argv.slice(1));
  });
} else {
  void runCli(process.argv.slice(2));
}

/** The value of node's `--snapshot-blob` option (dist/bundle/main.blob). */
function snapshotBlobPath(): string | undefined {
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--snapshot-blob") return argv[i + 1];
    if (argv[i]!.startsWith("--snapshot-blob=")) return argv[i]!.slice("--snapshot-blob=".length);
  }
  return undefined;
}
