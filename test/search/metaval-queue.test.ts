import { describe, expect, it } from 'vitest';
import { MetavalQueue } from '../../search/metaval.js';
import type { ChildRecord, EvalJob, EvalOutcome } from '../../search/types.js';

/** A queue over scripted deps: each run waits until the test releases it, so the order of the requests is the test's. */
function harness(leaders: Map<number, number>) {
  const ran: number[] = [];
  const release: (() => void)[] = [];
  const q = new MetavalQueue({
    child: (id) => ({ id, source: `# ${id}`, simplified: '', status: 'ok' }) as unknown as ChildRecord,
    job: (id, source) => ({ childId: id, source, suite: 'standard', seed: 1, lrs: [] }) satisfies EvalJob,
    run: async (job): Promise<EvalOutcome> => {
      ran.push(job.childId);
      await new Promise<void>((r) => release.push(r));
      return { ok: true, result: { suite: 'standard', fitness: 0, tasks: [], ms: 1 } };
    },
    record: () => undefined,
    emit: () => undefined,
    log: () => undefined,
    stopping: () => false,
    rank: (id) => leaders.get(id) ?? null,
  });
  const step = async () => {
    for (let i = 0; i < 20 && release.length === 0; i++) await new Promise((r) => setImmediate(r));
    release.shift()?.();
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  return { q, ran, step };
}

describe('meta-validation queue', () => {
  it("serves the run's current leaders first, best first, then the rest oldest first; a repeated request waits once", async () => {
    const leaders = new Map<number, number>();
    const { q, ran, step } = harness(leaders);
    q.request(1); // starts at once
    q.request(2);
    q.request(3);
    q.request(4);
    q.request(3);
    // While 1 runs, 4 and 3 become the leaders (4 the better).
    leaders.set(3, 0.1).set(4, 0.5);
    for (let i = 0; i < 5; i++) await step();
    expect(ran).toEqual([1, 4, 3, 2]);
  });

  it('without ranks, oldest first', async () => {
    const { q, ran, step } = harness(new Map());
    for (const id of [5, 6, 7]) q.request(id);
    for (let i = 0; i < 4; i++) await step();
    expect(ran).toEqual([5, 6, 7]);
  });
});
