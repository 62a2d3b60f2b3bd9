// Schedules stages: each needed stage starts at once and waits only for the stages it reads
// (FROM <stage>, COPY --from), so independent stages run concurrently; the first failure cancels the rest.
import type { Stage, StageSet } from "./dockerfile/types.js";
import type { StageState } from "./state.js";

export class StageSolver {
  private readonly results = new Map<number, Promise<StageState>>();
  private readonly byName = new Map<string, number>();

  constructor(
    private readonly set: StageSet,
    private readonly runStage: (stage: Stage) => Promise<StageState>,
    private readonly abort: AbortController,
  ) {
    for (const st of set.stages) if (st.name) this.byName.set(st.name, st.index);
  }

  /** The stage a `FROM`/`--from` word names (a stage name, case-insensitive, or its index), if any. */
  indexOf(ref: string): number | undefined {
    const byName = this.byName.get(ref.toLowerCase());
    if (byName !== undefined) return byName;
    return /^\d+$/.test(ref) && Number(ref) < this.set.stages.length ? Number(ref) : undefined;
  }

  result(index: number): Promise<StageState> {
    let p = this.results.get(index);
    if (!p) {
      const stage = this.set.stages[index];
      if (!stage) throw new Error(`no stage ${index}`);
      p = this.runStage(stage);
      // The first failure cancels every running step; later rejections are consequences of it.
      p.catch(() => this.abort.abort());
      this.results.set(index, p);
    }
    return p;
  }

  /** Starts every needed stage now and resolves with the target's state, or the first error. */
  async solve(needed: Iterable<number>, target: number): Promise<StageState> {
    const all = [...needed].map((i) => this.result(i));
    try {
      await Promise.all(all);
    } catch (err) {
      // Promise.all rejects with the first failure in time; let every stage unwind (sandboxes killed,
      // snapshots removed) before reporting it.
      await Promise.allSettled(all);
      throw err;
    }
    return this.result(target);
  }
}

/** The stages `target` needs: itself plus everything it reads, transitively. */
export function neededStages(target: number, deps: Map<number, Set<number>>): Set<number> {
  const need = new Set<number>();
  const visit = (i: number) => {
    if (need.has(i)) return;
    need.add(i);
    for (const d of deps.get(i) ?? []) visit(d);
  };
  visit(target);
  return need;
}
