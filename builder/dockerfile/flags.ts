// Typed access to an instruction's --flags (BuildKit's BFlags): known names only, string flags
// need a value, booleans take an optional true/false, list flags may repeat.

export type FlagKind = "string" | "bool" | "list";
export type FlagSpec = Record<string, FlagKind>;

/** A flag problem; `word` is the flag as written, so the error can point at it. */
export class FlagError extends Error {
  constructor(
    message: string,
    readonly word: string,
  ) {
    super(message);
  }
}

export class FlagValues {
  private readonly strings = new Map<string, string>();
  private readonly bools = new Map<string, boolean>();
  private readonly lists = new Map<string, string[]>();

  constructor(words: string[], spec: FlagSpec, suggest: (name: string) => string) {
    for (const word of words) this.add(word, spec, suggest);
  }

  private add(word: string, spec: FlagSpec, suggest: (name: string) => string): void {
    const body = word.replace(/^--/, "");
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const value = eq < 0 ? undefined : body.slice(eq + 1);
    const kind = spec[name];
    if (name === "") throw new FlagError(`missing flag name in "${word}"`, word);
    if (!kind) throw new FlagError(`unknown flag: --${name}${suggest(name)}`, word);
    if (kind === "list") {
      if (value === undefined) throw new FlagError(`missing a value on flag: --${name}`, word);
      this.lists.set(name, [...(this.lists.get(name) ?? []), value]);
      return;
    }
    if (this.strings.has(name) || this.bools.has(name)) {
      throw new FlagError(`duplicate flag specified: --${name}`, word);
    }
    if (kind === "string") {
      if (value === undefined) throw new FlagError(`missing a value on flag: --${name}`, word);
      this.strings.set(name, value);
      return;
    }
    const lower = value?.toLowerCase();
    if (lower !== undefined && lower !== "true" && lower !== "false") {
      throw new FlagError(`expecting boolean value for flag ${name}, not: ${value}`, word);
    }
    this.bools.set(name, lower !== "false");
  }

  string(name: string): string | undefined {
    return this.strings.get(name);
  }

  bool(name: string): boolean {
    return this.bools.get(name) ?? false;
  }

  /** undefined when the flag was not given at all (distinct from --flag=false). */
  boolOrUndefined(name: string): boolean | undefined {
    return this.bools.get(name);
  }

  list(name: string): string[] {
    return this.lists.get(name) ?? [];
  }
}
