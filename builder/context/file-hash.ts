import { createHash } from "node:crypto";
import { createReadStream, readFileSync } from "node:fs";

/** Above this, a stream keeps memory flat; below it, one sync read is much faster here (NOTES). */
export const STREAM_THRESHOLD = 1 << 20;

/** How many files' contents this process hashed; tests read it to prove the memo avoided work. */
export const fileHashStats = { files: 0, bytes: 0 };

/** Hex sha256 of a file read in one go: for files up to STREAM_THRESHOLD. */
export function sha256OfSmallFile(abs: string): string {
  const data = readFileSync(abs);
  count(data.length);
  return createHash("sha256").update(data).digest("hex");
}

/** Hex sha256 of a file streamed in 1 MiB chunks. */
export async function sha256OfLargeFile(abs: string): Promise<string> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(abs, { highWaterMark: STREAM_THRESHOLD })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  count(size);
  return hash.digest("hex");
}

function count(bytes: number): void {
  fileHashStats.files++;
  fileHashStats.bytes += bytes;
}
