// Go's time.ParseDuration ("30s", "1m30s", "1.5h", "250ms"), in nanoseconds.

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

export function parseGoDuration(text: string): number {
  const invalid = () => new Error(`time: invalid duration "${text}"`);
  let s = text;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw invalid();
  let total = 0;
  const part = /^(\d*(?:\.\d*)?)([^\d.]*)/;
  while (s !== "") {
    const m = part.exec(s);
    if (!m || m[1] === "" || m[1] === ".") throw invalid();
    if (m[2] === "") throw new Error(`time: missing unit in duration "${text}"`);
    const unit = UNIT_NS[m[2]!];
    if (unit === undefined) throw new Error(`time: unknown unit "${m[2]}" in duration "${text}"`);
    total += Number(m[1]) * unit;
    s = s.slice(m[0].length);
  }
  return sign * Math.round(total);
}
