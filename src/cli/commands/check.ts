// `tsbuild check`: the build checks alone, without building. Exit 0 (warnings are only printed),
// 1 with --strict when any check fired, 2 on a parse error (thrown as a DockerfileError).
import { readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { Command } from "commander";
import { UsageError } from "../../errors.js";

export function registerCheck(program: Command): void {
  program
    .command("check")
    .description("run the Dockerfile build checks without building")
    .argument("<context>", "build context directory")
    .option("-f, --file <path>", "Dockerfile (default: CONTEXT/Dockerfile)")
    .option("--strict", "exit 1 when any check fails")
    .action(async (context: string, flags: { file?: string; strict?: boolean }) => {
      // Loaded on use, so other commands (and builds) never pay for these modules.
      const { checkDockerfile } = await import("../../../builder/dockerfile/checks.js");
      const { toStageSet } = await import("../../../builder/dockerfile/commands.js");
      const { parseDockerfile } = await import("../../../builder/dockerfile/parser.js");
      const path = resolve(flags.file ?? join(context, "Dockerfile"));
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch {
        throw new UsageError(`Dockerfile ${path}: cannot read it (does it exist?)`);
      }
      const parsed = parseDockerfile(text, basename(path));
      // Semantic errors (unknown instruction, bad flags, unknown stage) exit 2 as they would in a build.
      toStageSet(parsed, { buildArgs: {} });
      const warnings = [...parsed.warnings, ...checkDockerfile(parsed)];
      for (const w of warnings) {
        const where = w.location ? `${w.location.file}:${w.location.startLine}` : basename(path);
        process.stdout.write(`${where}: ${w.code}: ${w.message}\n`);
      }
      if (flags.strict && warnings.length > 0) process.exitCode = 1;
    });
}
