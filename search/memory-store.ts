/**
 * A run kept in memory: the `RunStore` contract with nothing behind it, for
 * tests of the search (and of any store: the same checks must pass against
 * SQLite and a database server). Records are copied in and out, so a test
 * cannot change what was committed by holding on to an object.
 */
import type { SearchConfig } from './config.js';
import type { Commit, RunInfo, RunStatus, RunStore, SeedSource } from './run-store.js';
import { ZERO_COUNTERS, type Calibration, type ChildRecord, type Counters, type LogLevel, type Member, type SuiteResult } from './types.js';

interface Stay {
  id: number;
  fitness: number;
  addedAt: number;
  removedAt: number | null;
}

export interface MemoryMetaval {
  id: number;
  requestedAt: number;
  status: 'pending' | 'done' | 'failed';
  fitness: number | null;
  result: SuiteResult | null;
  failure?: string;
}

export class MemoryRunStore implements RunStore {
  private readonly kids: ChildRecord[] = [];
  private readonly stays: Stay[] = [];
  private count: Counters = { ...ZERO_COUNTERS };
  private readonly metavals = new Map<number, MemoryMetaval>();
  /** Every line logged, in order. */
  readonly logs: { level: LogLevel; message: string }[] = [];
  /** Every status set, in order (the last is the run's). */
  readonly statuses: RunStatus[] = [];

  constructor(
    private readonly settings: SearchConfig,
    private readonly seedList: SeedSource[],
    private readonly name = 'memory',
  ) {}

  info(): RunInfo {
    return { name: this.name, dir: `memory:${this.name}` };
  }
  config(): SearchConfig {
    return structuredClone(this.settings);
  }
  seeds(): SeedSource[] {
    return structuredClone(this.seedList);
  }
  counters(): Counters {
    return { ...this.count };
  }
  *iterateChildren(): IterableIterator<ChildRecord> {
    for (const c of this.kids) yield structuredClone(c);
  }
  child(id: number): ChildRecord | undefined {
    const c = this.kids[id - 1];
    return c ? structuredClone(c) : undefined;
  }
  /** Every committed child, in id order. */
  children(): ChildRecord[] {
    return [...this.iterateChildren()];
  }
  population(at?: number): Member[] {
    const n = at ?? this.count.committed;
    return this.stays
      .filter((s) => s.addedAt <= n && (s.removedAt === null || s.removedAt > n))
      .sort((a, b) => a.addedAt - b.addedAt || a.id - b.id)
      .map((s) => ({ id: s.id, fitness: s.fitness, addedAt: s.addedAt }));
  }
  metavalRequested(): Set<number> {
    return new Set(this.metavals.keys());
  }
  pendingMetaval(): number[] {
    return this.metavalRows()
      .filter((m) => m.status === 'pending')
      .map((m) => m.id);
  }
  /** Meta-validation requests and results, in request order. */
  metavalRows(): MemoryMetaval[] {
    return [...this.metavals.values()].sort((a, b) => a.requestedAt - b.requestedAt || a.id - b.id).map((m) => structuredClone(m));
  }
  /** The status set last. */
  status(): RunStatus | undefined {
    return this.statuses.at(-1);
  }

  commit(k: Commit): void {
    const expected = this.count.committed + 1;
    if (k.child.id !== expected) throw new Error(`commit out of order: child ${k.child.id}, expected ${expected}`);
    if (k.counters.committed !== k.child.id) throw new Error(`commit of child ${k.child.id} with counters of ${k.counters.committed}`);
    this.kids.push(structuredClone(k.child));
    for (const id of k.remove) {
      const s = this.stays.find((x) => x.id === id && x.removedAt === null);
      if (s) s.removedAt = k.child.id;
    }
    for (const m of k.add) this.stays.push({ id: m.id, fitness: m.fitness, addedAt: k.child.id, removedAt: null });
    for (const id of k.metaval)
      if (!this.metavals.has(id)) this.metavals.set(id, { id, requestedAt: k.child.id, status: 'pending', fitness: null, result: null });
    this.count = { ...k.counters };
  }

  /** All or none: the ids are checked before anything is kept. */
  commitMany(cs: readonly Commit[]): void {
    cs.forEach((k, i) => {
      const expected = this.count.committed + 1 + i;
      if (k.child.id !== expected) throw new Error(`commit out of order: child ${k.child.id}, expected ${expected}`);
    });
    for (const k of cs) this.commit(k);
  }

  setMetaval(id: number, result: SuiteResult | null, failure?: string): void {
    const m = this.metavals.get(id);
    if (!m) throw new Error(`meta-validation result for child ${id}, which was never requested`);
    const fitness = result && typeof result.fitness === 'number' && Number.isFinite(result.fitness) ? result.fitness : null;
    this.metavals.set(id, {
      ...m,
      status: result && fitness !== null ? 'done' : 'failed',
      fitness,
      result: result ? structuredClone(result) : null,
      ...(failure === undefined ? {} : { failure }),
    });
    const c = this.kids[id - 1];
    if (c) this.kids[id - 1] = { ...c, metaval: fitness };
  }

  private calib: Calibration = { references: {}, noise: {} };

  calibration(): Calibration {
    return structuredClone(this.calib);
  }

  setCalibration(c: Calibration): void {
    this.calib = structuredClone(c);
  }

  saveCounters(c: Counters): void {
    this.count = { ...c };
  }

  setStatus(status: RunStatus): void {
    this.statuses.push(status);
  }

  log(level: LogLevel, message: string): void {
    this.logs.push({ level, message });
  }
}
