import type { FileHandle } from "node:fs/promises";
import { Writable } from "node:stream";

/**
 * A writable over an open FileHandle that leaves closing (and fsyncing) to its owner, with a hook
 * that sees every chunk on its way to the file (used to hash while writing).
 */
export class FileHandleWritable extends Writable {
  size = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly onChunk: (chunk: Buffer) => void = () => undefined,
  ) {
    super({ highWaterMark: 1 << 20 });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.take(chunk);
    writeAll(this.fh, [chunk]).then(() => cb(), cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    const bufs = chunks.map((c) => c.chunk);
    for (const b of bufs) this.take(b);
    writeAll(this.fh, bufs).then(() => cb(), cb);
  }

  private take(chunk: Buffer): void {
    this.onChunk(chunk);
    this.size += chunk.length;
  }
}

async function writeAll(fh: FileHandle, bufs: Buffer[]): Promise<void> {
  let pending = bufs.filter((b) => b.length > 0);
  while (pending.length > 0) {
    let { bytesWritten } = await fh.writev(pending);
    // Short write: drop what was written and go again with the rest.
    const rest: Buffer[] = [];
    for (const b of pending) {
      if (bytesWritten >= b.length) bytesWritten -= b.length;
      else {
        rest.push(b.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    pending = rest;
  }
}
