// Schedules stages: each needed stage starts at once and waits only for the stages it reads
// (FROM <stage>, COPY --from), so independent stages run concurrently; the first failure cancels the rest.
import type { StageState } from "../state.js";

export class StageSolver {
  private readonly results = new Map<number, Promise<StageState>>();

  constructor(
    private readonly runStage: (index: number) => Promise<StageState>,
    private readonly abort: AbortController,
  ) {}

  /** The final state of stage `index`, started on first request. */
  result(index: number): Promise<StageState> {
    let p = this.results.get(index);
    if (!p) {
      p = this.runStage(index);
      // The first failure cancels every running step; later rejections are consequences of it.
      p.catch(() => this.abort.abort());
      this.results.set(index, p);
    }
    return p;
  }

  /** Starts every needed stage now and resolves with their final states, or the first error. */
  async solve(needed: Iterable<number>): Promise<Map<number, StageState>> {
    const indexes = [...needed];
    const all = indexes.map((i) => this.result(i));
    try {
      const states = await Promise.all(all);
      return new Map(indexes.map((i, n) => [i, states[n]!]));
    } catch (err) {
      // Promise.all rejects with the first failure in time; let every stage unwind (sandboxes killed,
      // snapshots removed) before reporting it.
      await Promise.allSettled(all);
      throw err;
    }
  }
}
