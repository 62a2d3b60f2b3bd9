// ADD's local-source hook: a tar archive (plain or compressed, recognized by content) is extracted into
// the destination directory; anything else is left for the normal copy.
import type { Owner } from "../../context/chown.js";
import { detectTarArchive } from "./archive-format.js";
import { extractArchive } from "./extract.js";

export async function unpackIfArchive(
  sourceAbs: string,
  sourceRel: string,
  rootfs: string,
  destAbs: string,
  owner?: Owner,
): Promise<boolean> {
  const compression = await detectTarArchive(sourceAbs);
  if (compression === undefined) return false;
  await extractArchive({ archive: sourceAbs, label: sourceRel, compression, rootfs, destAbs, owner });
  return true;
}
