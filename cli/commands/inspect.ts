import type { Command } from "commander";
import { TsbuildError } from "../../src/errors.js";
import { readImage } from "../../src/image/read.js";
import { normalizeImageName } from "../../src/oci/reference.js";
import { openContentStore } from "../../src/store/content.js";
import { storeRoot } from "../store-root.js";

export function registerInspect(program: Command): void {
  program
    .command("inspect")
    .description("print an image's manifest descriptor, manifest and config as JSON")
    .argument("<name>", "image name")
    .action(async (name: string) => {
      const store = await openContentStore(storeRoot());
      const full = normalizeImageName(name);
      const rec = await store.getImage(full);
      if (!rec) throw new TsbuildError(`image ${full}: not found in the store`);
      const img = await readImage(store, rec.target.digest);
      process.stdout.write(
        `${JSON.stringify({ name: rec.name, descriptor: rec.target, manifest: img.manifest, config: img.config }, null, 2)}\n`,
      );
    });
}
