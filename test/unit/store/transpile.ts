import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import ts from "typescript";

const repo = resolve(import.meta.dirname, "../../..");

/**
 * Transpiles some of src/ into `outDir` (same relative layout) so that a test can run them in
 * separate node processes, as two tsbuild processes on one store would.
 */
export function transpileSources(outDir: string, files: string[]): void {
  for (const file of files) {
    const out = ts.transpileModule(readFileSync(join(repo, file), "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    const dest = join(outDir, file.replace(/\.ts$/, ".js"));
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, out.outputText);
  }
  writeFileSync(join(outDir, "package.json"), '{"type":"module"}');
}
