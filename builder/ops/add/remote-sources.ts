// The URL sources of one ADD: their cache identities, and placing the downloads into the rootfs.
import { copyFileSync, chmodSync, lchownSync, utimesSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import type { Digest } from "../../../src/oci/types.js";
import type { Owner } from "../../context/chown.js";
import { lstatIfExists } from "../../context/lstat-if-exists.js";
import { resolveInRoot } from "../../context/securejoin.js";
import { parseChmod } from "../chmod.js";
import { mkdirInRoot } from "../copy/dest-path.js";
import { type Download, download, parseChecksum } from "./remote.js";

export interface PlaceOptions {
  destRoot: string;
  dest: string;
  workdir: string;
  owner?: Owner;
  chmod?: string;
}

/** Docker gives downloaded files mode 0600 unless --chmod says otherwise. */
const DOWNLOAD_MODE = 0o600;

export class RemoteSources {
  private readonly downloads = new Map<string, Promise<Download>>();
  private readonly expected?: Digest;

  constructor(
    private readonly urls: string[],
    checksum: string | undefined,
    private readonly signal: AbortSignal,
    private readonly onWarning?: (message: string) => void,
  ) {
    if (checksum !== undefined && urls.length > 0) this.expected = parseChecksum(checksum, urls[0]!);
  }

  private fetch(url: string): Promise<Download> {
    let d = this.downloads.get(url);
    if (!d) {
      d = download(url, this.signal, this.expected, this.onWarning);
      this.downloads.set(url, d);
    }
    return d;
  }

  /** Per URL: the --checksum when given (no download needed), else the content digest (downloads now). */
  async identities(): Promise<{ url: string; digest: Digest }[]> {
    const out: { url: string; digest: Digest }[] = [];
    for (const url of this.urls) out.push({ url, digest: this.expected ?? (await this.fetch(url)).digest });
    return out;
  }

  /** Downloads (if not yet) and writes each file at the destination: a dir ("/"-ended or existing) gets the URL's file name. */
  async placeAll(o: PlaceOptions): Promise<void> {
    for (const url of this.urls) {
      const d = await this.fetch(url);
      const destPath = posix.isAbsolute(o.dest) ? o.dest : posix.join("/", o.workdir, o.dest);
      let target = resolveInRoot(o.destRoot, destPath);
      if (o.dest.endsWith("/") || lstatIfExists(target)?.isDirectory()) target = join(target, d.name);
      mkdirInRoot(o.destRoot, dirname(target), o.owner);
      copyFileSync(d.path, target);
      lchownSync(target, o.owner?.uid ?? 0, o.owner?.gid ?? 0);
      chmodSync(target, o.chmod ? parseChmod(o.chmod)(DOWNLOAD_MODE, false) : DOWNLOAD_MODE);
      if (d.mtime !== undefined) utimesSync(target, d.mtime, d.mtime);
    }
  }

  /** Removes the downloaded temp files (once: a later placeAll would download again). */
  release(): void {
    const all = [...this.downloads.values()];
    this.downloads.clear();
    for (const d of all)
      d.then(
        (x) => x.remove(),
        () => undefined,
      );
  }
}
