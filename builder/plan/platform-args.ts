// BuildKit's predefined platform ARGs (a declared `ARG TARGETARCH` gets its value from here). Builds
// are linux/amd64 only for now; multi-platform builds will set these from --platform.
export const PLATFORM_ARGS: Readonly<Record<string, string>> = {
  TARGETPLATFORM: "linux/amd64",
  TARGETOS: "linux",
  TARGETARCH: "amd64",
  TARGETVARIANT: "",
  BUILDPLATFORM: "linux/amd64",
  BUILDOS: "linux",
  BUILDARCH: "amd64",
  BUILDVARIANT: "",
};
