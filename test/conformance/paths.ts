// Where the shared conformance data lives: beside the checkout, never copied into it.
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export const conformanceRoot = path.resolve(repoRoot, "../shared/conformance");
export const dockerfileData = path.join(conformanceRoot, "buildkit/frontend/dockerfile");
