import type { Command } from "commander";
import { TsbuildError } from "../../src/errors.js";
import { openContentStore } from "../../src/store/content.js";
import { verifyStore } from "../../src/store/verify.js";
import { storeRoot } from "../store-root.js";

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .description("re-hash every blob and check every image reference resolves")
    .action(async () => {
      const store = await openContentStore(storeRoot());
      const { checked, bad } = await verifyStore(store);
      if (bad.length)
        throw new TsbuildError(
          `store ${store.root}: ${bad.length} of ${checked} blobs bad:\n${bad.join("\n")}`,
        );
      process.stdout.write(`${checked} blobs verified\n`);
    });
}
