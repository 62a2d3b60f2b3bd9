import type { Command } from "commander";
import { UsageError } from "../../src/errors.js";
import { familiarName } from "../../src/oci/reference.js";
import { openContentStore } from "../../src/store/content.js";
import { collectList } from "../options.js";
import { storeRoot } from "../store-root.js";
import { stderrWarnings } from "../warnings.js";

export function registerPush(program: Command): void {
  program
    .command("push")
    .description("push an image from the store to a registry")
    .argument("<name>", "local image, e.g. 127.0.0.1:5000/app:1")
    .argument("[dest]", "destination reference (default: NAME)")
    .option("--insecure-registry <host>", "use plain HTTP for this registry (repeatable)", collectList, [])
    .option("--chunk-size <bytes>", "upload blobs larger than this in chunks of this size", String(8 << 20))
    .action(
      async (
        name: string,
        dest: string | undefined,
        flags: { insecureRegistry: string[]; chunkSize: string },
      ) => {
        // Loaded on use, so other commands (and builds) never pay for these modules.
        const { pushImage } = await import("../../src/registry/push.js");
        const chunkSize = Number(flags.chunkSize);
        if (!Number.isInteger(chunkSize) || chunkSize < 1) {
          throw new UsageError(`--chunk-size ${flags.chunkSize}: expected a positive number of bytes`);
        }
        const store = await openContentStore(storeRoot());
        const res = await pushImage(store, name, dest, {
          insecureRegistries: flags.insecureRegistry,
          chunkSize,
          progress: stderrWarnings,
        });
        process.stdout.write(`${familiarName(res.name)}: ${res.digest}\n`);
      },
    );
}
