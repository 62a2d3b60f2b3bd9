// The conformance rendering of a parse-tree node (BuildKit's Node.Dump).
import { goQuote } from "./goquote.js";
import type { Node } from "./types.js";

export function renderNode(node: Node): string {
  let out = node.keyword;
  if (node.flags.length > 0) out += ` [${node.flags.map(goQuote).join(" ")}]`;
  if (node.next) out += ` ${renderNode(node.next)}`;
  for (const arg of node.args) out += ` ${goQuote(arg)}`;
  return `(${out})`;
}
