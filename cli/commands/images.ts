import type { Command } from "commander";
import { familiarName } from "../../src/oci/reference.js";
import { openContentStore } from "../../src/store/content.js";
import { storeRoot } from "../store-root.js";

export function registerImages(program: Command): void {
  program
    .command("images")
    .description("list the images in the store")
    .option("-q, --quiet", "print only the manifest digests")
    .action(async (flags: { quiet?: boolean }) => {
      const store = await openContentStore(storeRoot());
      const images = await store.listImages();
      if (flags.quiet) {
        for (const img of images) process.stdout.write(`${img.target.digest}\n`);
        return;
      }
      const rows = [["NAME", "DIGEST", "SIZE"]];
      for (const img of images) {
        rows.push([
          familiarName(img.name),
          img.target.digest.slice(0, 19),
          formatSize(await imageSize(store, img.target.digest)),
        ]);
      }
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows)
        process.stdout.write(
          `${r
            .map((c, i) => c.padEnd(widths[i]!))
            .join("   ")
            .trimEnd()}\n`,
        );
    });
}

async function imageSize(
  store: Awaited<ReturnType<typeof openContentStore>>,
  digest: string,
): Promise<number> {
  const manifest = JSON.parse((await store.readBlob(digest)).toString()) as {
    layers?: { size: number }[];
    config?: { size: number };
  };
  return (manifest.config?.size ?? 0) + (manifest.layers ?? []).reduce((n, l) => n + l.size, 0);
}

export function formatSize(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)}${units[i]}`;
}
