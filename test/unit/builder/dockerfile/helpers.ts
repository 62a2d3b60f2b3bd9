import { toStageSet } from "../../../../builder/dockerfile/commands.js";
import { parseDockerfile } from "../../../../builder/dockerfile/parser.js";
import type { Command, StageSet } from "../../../../builder/dockerfile/types.js";

export function stages(text: string, buildArgs: Record<string, string> = {}): StageSet {
  return toStageSet(parseDockerfile(text), { buildArgs });
}

/** The commands of the last stage of "FROM scratch\n" + body. */
export function commands(body: string): Command[] {
  const set = stages(`FROM scratch\n${body}`);
  return set.stages[set.stages.length - 1]!.commands;
}

export function only<K extends Command["kind"]>(body: string, kind: K): Command & { kind: K } {
  const [cmd] = commands(body);
  if (cmd?.kind !== kind) throw new Error(`expected ${kind}, got ${cmd?.kind}`);
  return cmd as Command & { kind: K };
}

/** The message of the error `fn` throws. */
export function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected an error");
}
