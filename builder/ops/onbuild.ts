// ONBUILD: a base image's stored triggers run first in a stage built FROM it (BuildKit's behaviour for
// images; a stage built FROM another stage does not fire them), and the child image does not keep them.
import { toStageSet } from "../dockerfile/commands.js";
import { parseDockerfile } from "../dockerfile/parser.js";
import type { Command, Stage } from "../dockerfile/types.js";
import type { StageState } from "../state.js";

/** Parses `s`'s OnBuild triggers into commands (located at the FROM line that fired them) and clears them. */
export function takeOnBuildTriggers(
  s: StageState,
  stage: Stage,
  buildArgs: Record<string, string>,
): Command[] {
  const triggers = s.config.config.OnBuild ?? [];
  if (triggers.length === 0) return [];
  delete s.config.config.OnBuild;
  // The triggers are whole instructions; a throwaway FROM lets the frontend parse and type them as a stage.
  const file = `${stage.location.file} (ONBUILD of ${stage.baseName})`;
  const parsed = parseDockerfile(`FROM scratch\n${triggers.join("\n")}\n`, file);
  const commands = toStageSet(parsed, { buildArgs }).stages[0]?.commands ?? [];
  return commands.map((c) => ({ ...c, location: { ...stage.location } }));
}
