// `-o` exporters and `--push`: the built image leaves the store.
import { UsageError } from "../../src/errors.js";
import type { ProgressSink } from "../../src/progress/events.js";
import type { ContentStore } from "../../src/store/types.js";
import type { BuiltImage } from "./image.js";

/** `-o type=oci,dest=FILE`: an OCI archive of the image under each of its names ("latest" without one). */
export async function exportOciArchiveOutput(
  store: ContentStore,
  image: BuiltImage,
  dest: string,
): Promise<void> {
  // Loaded on use: a build without -o never pays for the tar modules.
  const { exportOciArchive } = await import("../../src/output/oci-archive.js");
  const target = image.manifest;
  const named = image.names.length ? image.names : ["latest"];
  await exportOciArchive(
    store,
    named.map((name) => ({ name, target })),
    dest,
  );
}

export interface PushOptions {
  insecureRegistries?: string[];
  progress: ProgressSink;
  signal: AbortSignal;
}

/** `--push`: every -t name to its registry. */
export async function pushBuiltImage(
  store: ContentStore,
  image: BuiltImage,
  opts: PushOptions,
): Promise<void> {
  if (image.names.length === 0) throw new UsageError("--push needs at least one -t NAME to push to");
  const { pushImage } = await import("../../src/registry/push.js");
  for (const name of image.names) {
    opts.progress.emit({ type: "info", message: `pushing ${name}` });
    await pushImage(store, name, undefined, opts);
  }
}
