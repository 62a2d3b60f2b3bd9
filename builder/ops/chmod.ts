import { UsageError } from "../../src/errors.js";

/** Maps a file's permission bits (0o7777 part of st_mode) to the ones `--chmod` gives it. */
export type ModeMapper = (mode: number, isDir: boolean) => number;

/** Bits each "who" letter may touch: permissions plus its special bit (setuid, setgid, sticky). */
const WHO_MASK: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o1007, a: 0o7777 };
const CLASS_SHIFT: Record<string, number> = { u: 6, g: 3, o: 0 };

/**
 * Parses a `COPY --chmod` value: octal ("755", "0644", "4755") or symbolic as chmod(1) ("u+x", "go-w",
 * "a=r,u+w", "+x", "g=u", "a+X"). A missing "who" means all classes and, unlike chmod(1), ignores the
 * umask: a build must not depend on the builder's umask.
 */
export function parseChmod(spec: string): ModeMapper {
  const bad = (why: string) => new UsageError(`invalid --chmod=${spec}: ${why}`);
  if (/^[0-7]+$/.test(spec)) {
    if (spec.length > 4 && !/^0+$/.test(spec.slice(0, -4))) throw bad("octal mode above 7777");
    const bits = Number.parseInt(spec, 8) & 0o7777;
    return () => bits;
  }
  const clauses = spec.split(",").map((c) => parseClause(c, bad));
  return (mode, isDir) => clauses.reduce((m, apply) => apply(m, isDir), mode & 0o7777);
}

type Clause = (mode: number, isDir: boolean) => number;

/** One comma-separated clause: who letters, then one or more operator + permissions pairs. */
function parseClause(clause: string, bad: (why: string) => Error): Clause {
  const m = /^([ugoa]*)((?:[-+=](?:[ugo]|[rwxXst]*))+)$/.exec(clause);
  if (!m) throw bad(clause === "" ? "empty clause" : `cannot parse ${JSON.stringify(clause)}`);
  const who = m[1] === "" ? "a" : m[1]!;
  const whoMask = [...who].reduce((acc, w) => acc | WHO_MASK[w]!, 0);
  const actions = [...m[2]!.matchAll(/([-+=])([ugo]|[rwxXst]*)/g)].map(([, op, perms]) => ({
    op: op!,
    perms: perms!,
  }));
  return (mode, isDir) => {
    for (const { op, perms } of actions) {
      const bits = permBits(perms, mode, isDir) & whoMask;
      if (op === "+") mode |= bits;
      else if (op === "-") mode &= ~bits;
      else mode = (mode & ~whoMask) | bits;
    }
    return mode;
  };
}

/** The bits named by a permission list, in all classes (the caller masks them to the "who"). */
function permBits(perms: string, mode: number, isDir: boolean): number {
  if (perms.length === 1 && perms in CLASS_SHIFT) {
    // "g=u": copy one class's current rwx to the others.
    const rwx = (mode >> CLASS_SHIFT[perms]!) & 0o7;
    return rwx * 0o111;
  }
  let bits = 0;
  for (const p of perms) {
    if (p === "r") bits |= 0o444;
    else if (p === "w") bits |= 0o222;
    else if (p === "x") bits |= 0o111;
    else if (p === "X" && (isDir || (mode & 0o111) !== 0)) bits |= 0o111;
    else if (p === "s") bits |= 0o6000;
    else if (p === "t") bits |= 0o1000;
  }
  return bits;
}
