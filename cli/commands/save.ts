import type { Command } from "commander";
import { TsbuildError, UsageError } from "../../src/errors.js";
import { normalizeImageName } from "../../src/oci/reference.js";
import { openContentStore } from "../../src/store/content.js";
import type { ImageRecord } from "../../src/store/types.js";
import { storeRoot } from "../store-root.js";

export function registerSave(program: Command): void {
  program
    .command("save")
    .description("write images to an OCI archive (tar)")
    .argument("<names...>", "image names")
    .option("-o, --output <file>", "archive path, or - for stdout")
    .action(async (names: string[], flags: { output?: string }) => {
      // Loaded on use, so other commands (and builds) never pay for these modules.
      const { exportOciArchive } = await import("../../src/output/oci-archive.js");
      if (!flags.output) throw new UsageError("save: -o FILE is required");
      const store = await openContentStore(storeRoot());
      const images: ImageRecord[] = [];
      for (const n of names) {
        const rec = await store.getImage(normalizeImageName(n));
        if (!rec) throw new TsbuildError(`image ${normalizeImageName(n)}: not found in the store`);
        images.push(rec);
      }
      await exportOciArchive(store, images, flags.output);
    });
}
