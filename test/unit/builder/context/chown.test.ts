import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveChown } from "../../../../builder/context/chown.js";
import { makeTree, tempDir } from "./fixtures.js";

let root: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir: root, cleanup } = tempDir("chown"));
  makeTree(root, {
    "real-etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n# comment\n",
    "real-etc/group": "root:x:0:\nstaff:x:50:app\napp:x:1001:\n",
    // A rootfs whose /etc is an absolute symlink must still be read inside the rootfs.
    etc: { symlink: "/real-etc" },
  });
});
afterEach(() => cleanup());

describe("resolveChown", () => {
  it("takes numeric ids as they are; a bare uid is also the gid", () => {
    expect(resolveChown("1234", root)).toEqual({ uid: 1234, gid: 1234 });
    expect(resolveChown("1234:55", root)).toEqual({ uid: 1234, gid: 55 });
  });

  it("looks names up in the rootfs's passwd and group, a bare name taking its primary group", () => {
    expect(resolveChown("app", root)).toEqual({ uid: 1000, gid: 1001 });
    expect(resolveChown("app:staff", root)).toEqual({ uid: 1000, gid: 50 });
    expect(resolveChown("0:staff", root)).toEqual({ uid: 0, gid: 50 });
    expect(resolveChown("root:7", root)).toEqual({ uid: 0, gid: 7 });
  });

  it("names an unknown user or group", () => {
    expect(() => resolveChown("nobody2", root)).toThrow(
      "unable to find user nobody2: no matching entries in /etc/passwd",
    );
    expect(() => resolveChown("app:wheel", root)).toThrow(
      "unable to find group wheel: no matching entries in /etc/group",
    );
  });

  it("says when the image has no passwd file", () => {
    const { dir, cleanup: done } = tempDir("chown-empty");
    try {
      expect(() => resolveChown("app", dir)).toThrow("unable to find user app: the image has no /etc/passwd");
      expect(resolveChown("5:6", dir)).toEqual({ uid: 5, gid: 6 });
    } finally {
      done();
    }
  });

  it("rejects malformed specs, naming them", () => {
    for (const bad of ["", ":5", "a:b:c", "app:"]) {
      expect(() => resolveChown(bad, root), bad).toThrow(`invalid owner ${JSON.stringify(bad)}`);
    }
  });
});
