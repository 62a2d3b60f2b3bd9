// `--build-context NAME=VALUE`, decided at plan time: a directory (COPY --from=NAME and RUN --mount
// from=NAME read its files), or `docker-image://REF` (FROM NAME, COPY --from=NAME and RUN --mount
// from=NAME use that image, from the store or its registry, as BuildKit does). The other kinds
// BuildKit takes (oci-layout://, git and HTTP URLs) are refused here, naming the flag, instead of
// failing later at a COPY with a path that means nothing.
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { UsageError, messageOf } from "../../src/errors.js";
import { normalizeImageName } from "../../src/oci/reference.js";

export interface NamedContexts {
  /** Name → absolute directory. */
  dirs: Map<string, string>;
  /** Name → image reference (as given after docker-image://). */
  images: Map<string, string>;
}

const IMAGE = "docker-image://";
const URL_LIKE = /^(?:[a-z][a-z0-9+.-]*:\/\/|git@)/i;

export function parseBuildContexts(given: Record<string, string>): NamedContexts {
  const out: NamedContexts = { dirs: new Map(), images: new Map() };
  for (const [name, value] of Object.entries(given)) {
    const flag = `--build-context ${name}=${value}`;
    if (value.startsWith(IMAGE)) out.images.set(name, imageRef(flag, value.slice(IMAGE.length)));
    else if (URL_LIKE.test(value)) throw new UsageError(`${flag}: ${unsupported(value)}`);
    else out.dirs.set(name, directory(flag, value));
  }
  return out;
}

function imageRef(flag: string, ref: string): string {
  try {
    normalizeImageName(ref);
  } catch (err) {
    throw new UsageError(`${flag}: ${messageOf(err)}`, { cause: err });
  }
  return ref;
}

function unsupported(value: string): string {
  if (value.startsWith("oci-layout://"))
    return "oci-layout:// contexts are not supported yet: `tsbuild load` the layout's image, then use docker-image://NAME";
  if (/^(?:https?|git|ssh):\/\/|^git@/i.test(value))
    return "git and HTTP URL contexts are not supported: clone or download it, then give the directory";
  return "unknown context kind: expected a directory or docker-image://REF";
}

function directory(flag: string, value: string): string {
  const dir = resolve(value);
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (err) {
    throw new UsageError(`${flag}: ${dir}: no such directory`, { cause: err });
  }
  if (!isDir) throw new UsageError(`${flag}: ${dir} is not a directory`);
  return dir;
}
