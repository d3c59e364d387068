/**
 * Meta-validation: the top programs, every `metavalEvery` children, are
 * scored on the held-out `metaval` suite (larger tasks), to catch programs
 * that overfit the proxy tasks. Which children is decided at commit
 * (search/commit.ts); this runs them one at a time, so that with two or more
 * workers the search keeps judging children meanwhile. Requests pile up faster
 * than a capped share of the workers can serve them, so the next one run is
 * the best of the run's current leaders among those waiting (what the funnel
 * recommends from), and only then the rest, oldest first.
 * A request survives a stop: the store keeps it pending and a resume runs it.
 */
import { errorMessage } from '../dsl/errors.js';
import { isScore, STOP, type Stop } from './judge.js';
import type { Awaitable } from './run-store.js';
import { trainedText, type ChildRecord, type EvalJob, type EvalOutcome, type LogLevel, type SearchEvent, type SuiteResult } from './types.js';

export interface MetavalDeps {
  child(id: number): Awaitable<ChildRecord | undefined>;
  job(id: number, source: string): EvalJob;
  run(job: EvalJob): Promise<EvalOutcome | Stop>;
  record(id: number, result: SuiteResult | null, failure?: string): Awaitable<void>;
  emit(e: SearchEvent): void;
  /** `persist`: whether the line also goes to the run's log. */
  log(level: LogLevel, message: string, persist: boolean): void;
  stopping(): boolean;
  /**
   * Waits for meta-validation's turn (its share of the workers' time) and what
   * it needs first; false: it cannot run in this session (the request stays pending).
   */
  turn?(): Promise<boolean>;
  /** The child's fitness if it is one of the run's current leaders, else null: leaders are served first, best first. */
  rank?(id: number): number | null;
}

export class MetavalQueue {
  /** Waiting requests, oldest first. */
  private readonly waiting: number[] = [];
  private runner: Promise<void> | null = null;

  constructor(private readonly deps: MetavalDeps) {}

  /** Queues one child's meta-validation (once: a second request while it waits is the same request). */
  request(id: number): void {
    if (!this.waiting.includes(id)) this.waiting.push(id);
    this.start();
  }

  /** The waiting request to run next: the best current leader, else the oldest. */
  private next(): number {
    let at = 0;
    let best: number | null = null;
    this.waiting.forEach((id, i) => {
      const r = this.deps.rank?.(id) ?? null;
      if (r !== null && (best === null || r > best)) [at, best] = [i, r];
    });
    return this.waiting.splice(at, 1)[0]!;
  }

  private start(): void {
    if (this.runner) return;
    this.runner = (async () => {
      while (this.waiting.length > 0 && !this.deps.stopping()) {
        const id = this.next();
        try {
          await this.validate(id);
        } catch (e) {
          if (!this.deps.stopping()) this.deps.log('error', `meta-validation of child ${id}: ${errorMessage(e)}`, false);
        }
      }
    })().finally(() => {
      this.runner = null;
    });
  }

  private async validate(id: number): Promise<void> {
    const d = this.deps;
    const c = await d.child(id);
    if (!c) return;
    if ((await d.turn?.()) === false || d.stopping()) return;
    const out = await d.run(d.job(id, trainedText(c)));
    if (out === STOP) return;
    if (out.ok) {
      await d.record(id, out.result);
      d.emit({ type: 'metaval', id, fitness: isScore(out.result.fitness) ? out.result.fitness : null });
    } else {
      await d.record(id, null, out.reason);
      d.emit({ type: 'metaval', id, fitness: null });
      d.log('warn', `meta-validation of child ${id} failed: ${out.reason}`, true);
    }
  }

  /** Resolves when every queued meta-validation has finished, or when `stopped` resolves. */
  async drain(stopped: Promise<unknown>): Promise<void> {
    while (this.runner && !this.deps.stopping()) {
      await Promise.race([this.runner, stopped]);
    }
  }
}
