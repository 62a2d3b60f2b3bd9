// A minimal container rootfs from the host's static busybox, for tests that run real sandboxes.
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const BUSYBOX = "/bin/busybox";

/** Applets linked into /bin; enough for the sandbox and build tests. */
export const BUSYBOX_APPLETS = [
  "sh",
  "ls",
  "cat",
  "echo",
  "id",
  "hostname",
  "ip",
  "ps",
  "sleep",
  "touch",
  "rm",
  "mkdir",
  "wget",
  "nc",
  "true",
  "false",
  "env",
  "pwd",
  "kill",
  "head",
  "tail",
  "grep",
  "sed",
  "wc",
  "stat",
  "chmod",
  "chown",
  "ln",
  "cp",
  "mv",
  "dd",
  "find",
  "sort",
  "uniq",
  "test",
  "tr",
  "date",
  "uname",
  "whoami",
  "printf",
];

/**
 * Creates a minimal rootfs in dir: /bin/busybox (static), /bin/<applet> symlinks, /etc/passwd and
 * /etc/group with root and app (1000:1000), an empty /tmp (1777).
 */
export function makeBusyboxRootfs(dir: string): void {
  mkdirSync(join(dir, "bin"), { recursive: true });
  mkdirSync(join(dir, "etc"), { recursive: true });
  mkdirSync(join(dir, "tmp"), { recursive: true, mode: 0o1777 });
  copyFileSync(BUSYBOX, join(dir, "bin/busybox"));
  for (const applet of BUSYBOX_APPLETS) symlinkSync("busybox", join(dir, "bin", applet));
  writeFileSync(
    join(dir, "etc/passwd"),
    "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
  );
  writeFileSync(join(dir, "etc/group"), "root:x:0:\napp:x:1000:\nwheel:x:10:app\n");
}
