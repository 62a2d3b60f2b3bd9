// BuildKit's predefined proxy ARGs: given with --build-arg, they reach every RUN's environment without
// an ARG line, and stay out of the cache key and the image's history (a proxy is where the build
// runs, not what it makes). Declared with ARG, one is an ordinary build arg (keyed, as in BuildKit).
const PROXY_ARG_NAMES = ["HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY"];

export const PROXY_ARGS: ReadonlySet<string> = new Set(
  PROXY_ARG_NAMES.flatMap((name) => [name, name.toLowerCase()]),
);

/** The proxy args among `buildArgs`, as `K=V` for a RUN's environment. */
export function proxyEnvOf(buildArgs: Record<string, string>): string[] {
  return Object.entries(buildArgs)
    .filter(([k]) => PROXY_ARGS.has(k))
    .map(([k, v]) => `${k}=${v}`);
}
