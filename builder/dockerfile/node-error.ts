// DockerfileErrors that point at an instruction (or at a word in its first line).
import { DockerfileError } from "../../src/errors.js";
import type { Node } from "./types.js";

export class NodeErrors {
  constructor(private readonly sourceLines: string[]) {}

  /** An error at the instruction's keyword, or at `word` when it appears on the instruction's first line. */
  at(node: Node, detail: string, word?: string): DockerfileError {
    const { location } = node;
    let column = location.column;
    if (word) {
      const index = this.sourceLines[location.startLine - 1]?.indexOf(word) ?? -1;
      if (index >= 0) column = index + 1;
    }
    return new DockerfileError({ ...location, column: column ?? 1 }, detail, this.sourceLines);
  }
}

/** The keyword as the user wrote it ("RUNN", "from"), for messages and casing checks. */
export function writtenKeyword(node: Node): string {
  return node.original.trimStart().split(/[\s]/, 1)[0] ?? node.keyword;
}
