import type { Command } from "commander";
import { parseGoDuration } from "../../builder/dockerfile/duration.js";
import { TsbuildError, UsageError } from "../../src/errors.js";
import type { PrunePolicy, PruneReport, PruneTarget } from "../../builder/cache/prune/prune.js";
import { openStore } from "../open-store.js";
import { formatSize } from "./images.js";

interface PruneFlags {
  all?: boolean;
  keepStorage?: string;
  filter: string[];
}

const SIZE_UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "10GB", "512m", "1.5g", "4096": binary units, as docker's --keep-storage takes them. */
export function parseSize(text: string, what = "--keep-storage"): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(text.trim());
  if (!m) throw new UsageError(`${what} ${text}: expected a size such as 512MB or 10GB`);
  return Math.floor(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!);
}

function policyOf(flags: PruneFlags): PrunePolicy {
  const policy: PrunePolicy = { all: flags.all === true };
  if (flags.keepStorage !== undefined) policy.keepStorage = parseSize(flags.keepStorage);
  for (const f of flags.filter) {
    const [key, value] = [f.slice(0, f.indexOf("=")), f.slice(f.indexOf("=") + 1)];
    if (key !== "until" || !f.includes("="))
      throw new UsageError(`--filter ${f}: only until=DURATION is supported`);
    try {
      policy.unusedForMs = parseGoDuration(value) / 1e6;
    } catch (err) {
      throw new UsageError(`--filter ${f}: ${(err as Error).message}`, { cause: err });
    }
  }
  return policy;
}

export function registerPrune(program: Command): void {
  program
    .command("prune")
    .description("remove least-recently-used build cache, then snapshots and blobs nothing uses")
    .option("-a, --all", "remove all build cache (tagged images stay)")
    // docker's `prune -f` skips its confirmation prompt; tsbuild never prompts, so it changes nothing.
    .option("-f, --force", "accepted for docker's habit: prune never asks for confirmation")
    .option(
      "--keep-storage <size>",
      "keep at most this much cache (e.g. 10GB), dropping the least recently used",
    )
    .option(
      "--filter <until=duration>",
      "remove cache not used for DURATION (e.g. until=24h)",
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .action(async (flags: PruneFlags) => {
      // Loaded on use, so other commands (and builds) never pay for these modules.
      const { pruneStore } = await import("../../builder/cache/prune/prune.js");
      const policy = policyOf(flags);
      const r = await pruneStore(await openStore(), policy);
      process.stdout.write(`${describeReport(r)}\ntotal reclaimed: ${formatSize(reclaimed(r))}\n`);
    });
}

function reclaimed(r: PruneReport): number {
  return r.cacheMounts.bytes + r.snapshots.bytes + r.blobs.bytes;
}

function describeReport(r: PruneReport): string {
  return (
    `removed ${r.records.removed} cache records (${r.records.kept} kept), ` +
    `${r.cacheMounts.removed} cache mounts (${formatSize(r.cacheMounts.bytes)}), ` +
    `${r.snapshots.removed} snapshots (${formatSize(r.snapshots.bytes)}), ` +
    `${r.blobs.removed} blobs (${formatSize(r.blobs.bytes)})`
  );
}

/**
 * The automatic limit after a build (`build --keep-storage`, or TSBUILD_KEEP_STORAGE): a prune with
 * --keep-storage. Another build running on the store only postpones it (a warning, not a failure):
 * the next build's prune catches up.
 */
export async function pruneAfterBuild(
  target: PruneTarget,
  keepStorage: { bytes: number; text: string },
  log: NodeJS.WritableStream,
) {
  const { pruneStore } = await import("../../builder/cache/prune/prune.js");
  try {
    const r = await pruneStore(target, { keepStorage: keepStorage.bytes });
    log.write(`prune (keep ${keepStorage.text}): ${describeReport(r)}\n`);
  } catch (err) {
    if (!(err instanceof TsbuildError)) throw err;
    log.write(`warning: prune after the build skipped: ${err.message}\n`);
  }
}
