import { UsageError } from "../errors.js";
import { DOCKER_HUB } from "../oci/reference.js";

const HOST_RE =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;

/** `https://host/v1/` and `host` name the same registry (config.json has both forms); Hub's aliases are docker.io. */
export function hostOfServerUrl(url: string): string {
  const host = url.replace(/^[a-z]+:\/\//, "").replace(/\/.*$/, "");
  return host === "index.docker.io" || host === "registry-1.docker.io" ? DOCKER_HUB : host;
}

/** The registry that `tsbuild login ARG` means, checked. */
export function registryHostArg(arg: string): string {
  const host = hostOfServerUrl(arg);
  if (!HOST_RE.test(host)) throw new UsageError(`invalid registry host ${JSON.stringify(arg)}`);
  return host;
}
