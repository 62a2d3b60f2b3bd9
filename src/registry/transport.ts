// Which URL reaches a registry: its API host and whether it speaks plain HTTP or HTTPS.
import { DOCKER_HUB } from "../oci/reference.js";

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);
/** Docker Hub's API lives on another host than its reference name. */
const DOCKER_HUB_API = "registry-1.docker.io";

/** The host part of `host[:port]`, brackets kept for IPv6. */
function hostOnly(registry: string): string {
  if (registry.startsWith("[")) return registry.slice(0, registry.indexOf("]") + 1);
  const colon = registry.lastIndexOf(":");
  return colon >= 0 ? registry.slice(0, colon) : registry;
}

/** Plain HTTP only for loopback hosts or hosts the user named with --insecure-registry; HTTPS otherwise. */
export function usesPlainHttp(registry: string, insecureRegistries: readonly string[] = []): boolean {
  return LOOPBACK.has(hostOnly(registry)) || insecureRegistries.includes(registry);
}

/** `http(s)://host[:port]` of a registry's API. */
export function registryBaseUrl(registry: string, insecureRegistries: readonly string[] = []): string {
  const host = registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
  return `${usesPlainHttp(registry, insecureRegistries) ? "http" : "https"}://${host}`;
}
