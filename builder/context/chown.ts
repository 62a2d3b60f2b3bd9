import { readFileSync } from "node:fs";
import { BuildStepError } from "../../src/errors.js";
import { resolveInRoot } from "./securejoin.js";

export interface Owner {
  uid: number;
  gid: number;
}

const NUMERIC_ID = /^\d+$/;

/**
 * Resolves a `--chown` value (`uid`, `uid:gid`, `name`, `name:group`, mixed) against the destination
 * rootfs, as BuildKit does: names come from the image's /etc/passwd and /etc/group (read inside the
 * rootfs, so a symlinked /etc cannot point at the host's); a user without a group takes the user's
 * primary group when named, and gid = uid when numeric.
 */
export function resolveChown(spec: string, rootfs: string): Owner {
  const parts = spec.split(":");
  const [user, group] = parts;
  if (parts.length > 2 || !user || group === "") {
    throw new BuildStepError(`invalid owner ${JSON.stringify(spec)}: expected user[:group]`);
  }
  const owner = NUMERIC_ID.test(user) ? numericUser(user) : namedUser(user, rootfs);
  if (group === undefined) return owner;
  const gid = NUMERIC_ID.test(group) ? Number(group) : lookupId(rootfs, "/etc/group", group).id;
  return { uid: owner.uid, gid };
}

function numericUser(user: string): Owner {
  const uid = Number(user);
  return { uid, gid: uid };
}

function namedUser(user: string, rootfs: string): Owner {
  const entry = lookupId(rootfs, "/etc/passwd", user);
  const gid = Number(entry.fields[3]);
  if (!Number.isInteger(gid)) {
    throw new BuildStepError(`/etc/passwd has no valid group id for user ${user}`);
  }
  return { uid: entry.id, gid };
}

/** Finds `name` in a colon-separated database of the rootfs (name:password:id:...). */
function lookupId(rootfs: string, file: string, name: string): { id: number; fields: string[] } {
  const kind = file === "/etc/passwd" ? "user" : "group";
  let text: string;
  try {
    text = readFileSync(resolveInRoot(rootfs, file), "utf8");
  } catch {
    throw new BuildStepError(`unable to find ${kind} ${name}: the image has no ${file}`);
  }
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields[0] !== name || fields.length < 3) continue;
    const id = Number(fields[2]);
    if (fields[2] !== "" && Number.isInteger(id) && id >= 0) return { id, fields };
  }
  throw new BuildStepError(`unable to find ${kind} ${name}: no matching entries in ${file}`);
}
