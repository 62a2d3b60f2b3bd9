import type { Command } from "commander";
import { familiarName } from "../../src/oci/reference.js";
import { DEFAULT_PLATFORM } from "../../src/registry/platform.js";
import { openContentStore } from "../../src/store/content.js";
import { collectList } from "../options.js";
import { storeRoot } from "../store-root.js";
import { stderrWarnings } from "../warnings.js";

export function registerPull(program: Command): void {
  program
    .command("pull")
    .description("pull an image from a registry into the store")
    .argument("<name>", "image reference, e.g. busybox:1.36 or 127.0.0.1:5000/app@sha256:…")
    .option("--platform <os/arch>", "platform to pick from a multi-platform image", DEFAULT_PLATFORM)
    .option("--insecure-registry <host>", "use plain HTTP for this registry (repeatable)", collectList, [])
    .action(async (name: string, flags: { platform: string; insecureRegistry: string[] }) => {
      // Loaded on use, so other commands (and builds) never pay for these modules.
      const { pullImage } = await import("../../src/registry/pull.js");
      const { markInUse } = await import("../../src/store/in-use.js");
      const store = await openContentStore(storeRoot());
      // Blobs land before the tag that makes them reachable: a concurrent prune must wait for us.
      const release = await markInUse(store.root);
      let rec;
      try {
        rec = await pullImage(store, name, {
          platform: flags.platform,
          insecureRegistries: flags.insecureRegistry,
          progress: stderrWarnings,
        });
      } finally {
        release();
      }
      process.stdout.write(`${familiarName(rec.name)}: ${rec.target.digest}\n`);
    });
}
