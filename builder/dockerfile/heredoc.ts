// Heredoc markers ("<<EOF", "<<-EOF", "3<<'EOF'") on RUN/COPY/ADD lines. The bodies are read
// by the parser's line loop; this module only finds the markers and post-processes bodies.
import { splitWordsKeepingQuotes } from "./words.js";

export interface HeredocMarker {
  name: string;
  expand: boolean;
  /** "<<-": strip leading tabs from body lines and from the terminator line. */
  chomp: boolean;
  fd?: number;
}

const MARKER = /^(\d*)<<(-?)([^<]*)$/;

/** Removes quotes and backslash escapes from a delimiter word ("E\"O\"F" → EOF). */
function unquoteDelimiter(word: string): string {
  let out = "";
  let quote = "";
  const chars = Array.from(word);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (quote) {
      if (ch === quote) quote = "";
      else if (ch === "\\" && quote === '"' && i + 1 < chars.length) out += chars[++i];
      else out += ch;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === "\\" && i + 1 < chars.length) out += chars[++i];
    else out += ch;
  }
  return out;
}

export function heredocMarkersInLine(line: string): HeredocMarker[] {
  const markers: HeredocMarker[] = [];
  for (const word of splitWordsKeepingQuotes(line, "\\")) {
    const m = MARKER.exec(word);
    if (!m || m[3] === "") continue;
    const rest = m[3]!;
    // A delimiter with any quoting (even partial, E"O"F) disables expansion, as in sh.
    const expand = !/['"]/.test(rest);
    const marker: HeredocMarker = { name: unquoteDelimiter(rest), expand, chomp: m[2] === "-" };
    if (m[1]) marker.fd = Number(m[1]);
    markers.push(marker);
  }
  return markers;
}

export function stripLeadingTabs(line: string): string {
  return line.replace(/^\t+/, "");
}
