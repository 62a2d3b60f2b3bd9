import { UsageError } from "../src/errors.js";

/** Collects a repeatable `--flag K=V` into a record. */
export function collectKeyValue(flag: string) {
  return (value: string, prev: Record<string, string> = {}): Record<string, string> => {
    const i = value.indexOf("=");
    if (i <= 0) throw new UsageError(`${flag} ${value}: expected KEY=VALUE`);
    return { ...prev, [value.slice(0, i)]: value.slice(i + 1) };
  };
}

export function collectList(value: string, prev: string[] = []): string[] {
  return [...prev, value];
}

/** Parses `-o type=oci,dest=FILE` (the only exporter so far). */
export function parseOutput(spec: string): { type: "oci"; dest: string } {
  const fields = Object.fromEntries(
    spec.split(",").map((kv) => {
      const i = kv.indexOf("=");
      return i < 0 ? [kv, ""] : [kv.slice(0, i), kv.slice(i + 1)];
    }),
  );
  if (fields.type !== "oci") throw new UsageError(`--output ${spec}: only type=oci is supported`);
  if (!fields.dest) throw new UsageError(`--output ${spec}: dest=FILE is required`);
  return { type: "oci", dest: fields.dest };
}
