import { UsageError } from "../errors.js";
import type { Descriptor, Platform } from "../oci/types.js";

export const DEFAULT_PLATFORM = "linux/amd64";

/** Parses `os/arch[/variant]`, e.g. `linux/arm64/v8`. */
export function parsePlatform(spec: string): Platform {
  const [os, architecture, variant, ...extra] = spec.split("/");
  if (!os || !architecture || extra.length > 0) {
    throw new UsageError(`platform ${JSON.stringify(spec)}: expected OS/ARCH[/VARIANT], e.g. linux/amd64`);
  }
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/** arm64's only variant is v8, so an index may list it with or without. */
function variantOf(p: Platform): string | undefined {
  return p.variant ?? (p.architecture === "arm64" ? "v8" : undefined);
}

/** The index entry for `want`: same os and architecture, and the same variant when one is asked for. */
export function pickPlatform(manifests: readonly Descriptor[], want: Platform): Descriptor | undefined {
  return manifests.find((m) => {
    const p = m.platform;
    if (!p || p.os !== want.os || p.architecture !== want.architecture) return false;
    return want.variant === undefined || variantOf(p) === variantOf(want);
  });
}
