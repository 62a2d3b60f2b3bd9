// `tsbuild check`: the build checks alone, without building: the build's plan phase (so every error a
// build would report before running anything is reported here too), then the checks. Exit 0 (warnings
// are only printed), 1 with --strict when any check fired, 2 on a parse or plan error.
import { basename } from "node:path";
import type { Command } from "commander";

export function registerCheck(program: Command): void {
  program
    .command("check")
    .description("run the Dockerfile build checks without building")
    .argument("<context>", "build context directory")
    .option("-f, --file <path>", "Dockerfile (default: CONTEXT/Dockerfile)")
    .option("--strict", "exit 1 when any check fails")
    .action(async (context: string, flags: { file?: string; strict?: boolean }) => {
      // Loaded on use, so other commands (and builds) never pay for these modules.
      const { checkDockerfile } = await import("../../builder/dockerfile/checks.js");
      const { planBuild } = await import("../../builder/plan/plan.js");
      const plan = planBuild({ contextDir: context, dockerfile: flags.file, buildArgs: {} });
      const warnings = [...plan.warnings, ...checkDockerfile(plan.parsed)];
      for (const w of warnings) {
        const where = w.location
          ? `${w.location.file}:${w.location.startLine}`
          : basename(plan.dockerfilePath);
        process.stdout.write(`${where}: ${w.code}: ${w.message}\n`);
      }
      if (flags.strict && warnings.length > 0) process.exitCode = 1;
    });
}
