import { type BigIntStats, constants } from "node:fs";
import { LSTAT_FIELDS, type LstatField } from "./index.js";

const STRIDE = LSTAT_FIELDS.length;
const at = (field: LstatField): number => LSTAT_FIELDS.indexOf(field);
// Plain constants, read once per file per field: a lookup table by name showed up in profiles.
const MODE = at("mode");
const UID = at("uid");
const GID = at("gid");
const NLINK = at("nlink");
const SIZE = at("size");
const DEV_HI = at("devHi");
const DEV_LO = at("devLo");
const INO_HI = at("inoHi");
const INO_LO = at("inoLo");
const RDEV_HI = at("rdevHi");
const RDEV_LO = at("rdevLo");
const ATIME_SEC = at("atimeSec");
const ATIME_NSEC = at("atimeNsec");
const MTIME_SEC = at("mtimeSec");
const MTIME_NSEC = at("mtimeNsec");
const CTIME_SEC = at("ctimeSec");
const CTIME_NSEC = at("ctimeNsec");
const TWO_32 = 2 ** 32;

/**
 * What the context walk, the COPY checksums and the copy itself need of an lstat, read from one shared
 * Float64Array (native lstatDir) without a BigInt or a Stats object per file. Every value is exact:
 * 64-bit dev/ino/rdev are kept as halves, times as seconds and nanoseconds.
 */
export class FileStat {
  private constructor(
    private readonly fields: Float64Array,
    private readonly base: number,
  ) {}

  /** Entry `index` of a lstatDir result. */
  static at(fields: Float64Array, index: number): FileStat {
    return new FileStat(fields, index * STRIDE);
  }

  static fromBigIntStats(st: BigIntStats): FileStat {
    const f = new Float64Array(STRIDE);
    const split = (v: bigint, hi: number, lo: number): void => {
      f[hi] = Number(v >> 32n);
      f[lo] = Number(v & 0xffffffffn);
    };
    const time = (ns: bigint, sec: number, nsec: number): void => {
      f[sec] = Number(ns / 1_000_000_000n);
      f[nsec] = Number(ns % 1_000_000_000n);
    };
    f[MODE] = Number(st.mode);
    f[UID] = Number(st.uid);
    f[GID] = Number(st.gid);
    f[NLINK] = Number(st.nlink);
    f[SIZE] = Number(st.size);
    split(st.dev, DEV_HI, DEV_LO);
    split(st.ino, INO_HI, INO_LO);
    split(st.rdev, RDEV_HI, RDEV_LO);
    time(st.atimeNs, ATIME_SEC, ATIME_NSEC);
    time(st.mtimeNs, MTIME_SEC, MTIME_NSEC);
    time(st.ctimeNs, CTIME_SEC, CTIME_NSEC);
    return new FileStat(f, 0);
  }

  private get(field: number): number {
    return this.fields[this.base + field]!;
  }

  get mode(): number {
    return this.get(MODE);
  }
  get uid(): number {
    return this.get(UID);
  }
  get gid(): number {
    return this.get(GID);
  }
  get nlink(): number {
    return this.get(NLINK);
  }
  get size(): number {
    return this.get(SIZE);
  }
  /** The device number of a device file (exact while below 2^53, which Linux's 44-bit dev_t is). */
  get rdev(): number {
    return this.get(RDEV_HI) * TWO_32 + this.get(RDEV_LO);
  }
  /** Identifies the inode (device and inode number), e.g. to find hardlinks. */
  get inodeKey(): string {
    const f = this.fields;
    const b = this.base;
    return `${f[b + DEV_HI]}.${f[b + DEV_LO]}:${f[b + INO_HI]}.${f[b + INO_LO]}`;
  }
  /** Differs whenever the content may differ: any write changes mtime or ctime, or the inode. */
  get changeKey(): string {
    const f = this.fields;
    const b = this.base;
    return (
      `${f[b + DEV_HI]}.${f[b + DEV_LO]}:${f[b + INO_HI]}.${f[b + INO_LO]}:${f[b + SIZE]}` +
      `:${f[b + MTIME_SEC]}.${f[b + MTIME_NSEC]}:${f[b + CTIME_SEC]}.${f[b + CTIME_NSEC]}`
    );
  }
  /** Times as utimes takes them (seconds, a double: below a microsecond is lost, as tar loses it). */
  get atimeSeconds(): number {
    return this.get(ATIME_SEC) + this.get(ATIME_NSEC) / 1e9;
  }
  get mtimeSeconds(): number {
    return this.get(MTIME_SEC) + this.get(MTIME_NSEC) / 1e9;
  }

  private type(): number {
    return this.get(MODE) & constants.S_IFMT;
  }
  isFile(): boolean {
    return this.type() === constants.S_IFREG;
  }
  isDirectory(): boolean {
    return this.type() === constants.S_IFDIR;
  }
  isSymbolicLink(): boolean {
    return this.type() === constants.S_IFLNK;
  }
  isFIFO(): boolean {
    return this.type() === constants.S_IFIFO;
  }
  isSocket(): boolean {
    return this.type() === constants.S_IFSOCK;
  }
  isCharacterDevice(): boolean {
    return this.type() === constants.S_IFCHR;
  }
  isBlockDevice(): boolean {
    return this.type() === constants.S_IFBLK;
  }
}
