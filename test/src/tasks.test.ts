import { describe, expect, it } from 'vitest';
import { seedProgram } from '../../seeds/index.js';
import { evaluate } from '../../src/evaluate.js';
import { TaskDefinitionError, defineTask, isTask, loadTasksModule } from '../../src/tasks/define.js';
import { BUILTIN_TASKS, TaskRegistry, suiteTasks } from '../../src/tasks/registry.js';
import { paramCount, type ArrayTask } from '../../src/tasks/types.js';

describe('registry', () => {
  it('has the three suites with the tasks the design names', () => {
    expect(suiteTasks('quick').map((t) => t.name)).toEqual(['quadratic', 'rosenbrock', 'sparse-logistic', 'mnist8-mlp']);
    expect(suiteTasks('standard').map((t) => t.name)).toEqual(['mnist-mlp', 'mnist-cnn', 'teacher-student', 'tiny-lm']);
    expect(suiteTasks('metaval').length).toBeGreaterThanOrEqual(4);
    const names = BUILTIN_TASKS.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
  });
  it('rosenbrock: the tfjs loss (newton, hessianFree) is the same rotated, shifted valley as the closed form', async () => {
    const tf = await import('@tensorflow/tfjs');
    await tf.setBackend('cpu');
    const task = BUILTIN_TASKS.find((t) => t.name === 'rosenbrock') as ArrayTask;
    for (const seed of [0, 3]) {
      const p = task.setup(seed);
      for (const x of [new Float64Array(task.paramCount), Float64Array.from({ length: task.paramCount }, (_, i) => 0.3 * Math.sin(i + 1))]) {
        const want = p.validate([x]).loss;
        const got = tf.tidy(() => p.tfLoss!(tf, [tf.tensor1d(Float32Array.from(x))]).dataSync()[0]!);
        expect(Math.abs(got - want), `seed ${seed}`).toBeLessThan(1e-4 * Math.max(1, want));
      }
    }
  });
  it('counts parameters', () => {
    const get = (n: string) => BUILTIN_TASKS.find((t) => t.name === n)!;
    expect(paramCount(get('mnist-mlp'))).toBe(784 * 128 + 128 + 128 * 10 + 10);
    expect(paramCount(get('mnist8-mlp'))).toBe(64 * 32 + 32 + 32 * 10 + 10);
    expect(paramCount(get('rosenbrock'))).toBe(2);
  });
  it('every quick and standard task trains a few steps on wasm', async () => {
    const e = await evaluate(seedProgram('adam'), { tasks: [...suiteTasks('quick'), ...suiteTasks('standard')], steps: 3, lrs: [1e-3, 1e-2], backend: 'wasm', reference: false });
    for (const t of e.tasks) {
      expect(t.failure, t.task).toBeUndefined();
      expect(t.loss, t.task).not.toBeNull();
    }
    // Every tfjs task stacks its rates, the CNN too since its replicas share their image patches (issue 14).
    expect(e.tasks.filter((t) => t.batched).map((t) => t.task)).toEqual(['mnist8-mlp', 'mnist-mlp', 'mnist-cnn', 'teacher-student', 'tiny-lm']);
  });
});

describe('defineTask', () => {
  const data = { x: [1, 2, 3, 4, 5, 6, 7, 8], y: [0, 1, 0, 1], xShape: [2], classes: 2 };
  it('makes a task with defaults', () => {
    const t = defineTask({ name: 'mine', data, model: { mlp: [2, 2] } });
    expect(isTask(t)).toBe(true);
    expect(t).toMatchObject({ name: 'mine', suite: 'standard', steps: 200, batchSize: 32, loss: 'cross-entropy', metric: 'accuracy', custom: true });
    const ds = t.data(0);
    expect(ds.train.n + ds.val.n).toBe(4);
    expect(ds.val.n).toBe(1);
  });
  it('rejects what cannot be a task, in one line', () => {
    const bad = (spec: unknown) => () => defineTask(spec as never);
    expect(bad({ name: 'a b', data, model: { mlp: [2, 2] } })).toThrow(TaskDefinitionError);
    expect(bad({ name: 'x', suite: 'huge', data, model: { mlp: [2, 2] } })).toThrow("task 'x': unknown suite 'huge' (expected quick, standard, metaval)");
    expect(bad({ name: 'x', data, model: { mlp: [2] } })).toThrow('model.mlp must list at least two positive layer widths');
    expect(() => defineTask({ name: 'x', data: { ...data, y: [0, 1, 2, 1] }, model: { mlp: [2, 2] } }).data(0)).toThrow("task 'x': label 2 is not a class in 0..1");
    expect(() => defineTask({ name: 'x', data: { ...data, x: [1, 2, 3] }, model: { mlp: [2, 2] } }).data(0)).toThrow(/not a whole number of 2-value examples/);
  });
});

describe('tasks modules', () => {
  it('loads the tasks a module exports', async () => {
    const tasks = await loadTasksModule('test/fixtures/tasks/good.ts');
    expect(tasks.map((t) => t.name)).toEqual(['fixture-mlp', 'fixture-regression']);
    const reg = new TaskRegistry();
    for (const t of tasks) reg.add(t);
    expect(reg.suite('quick').map((t) => t.name)).toContain('fixture-mlp');
  });
  it('one-line errors for a missing file, a module that throws, and an export that is not a task', async () => {
    await expect(loadTasksModule('test/fixtures/tasks/nope.ts')).rejects.toThrow('tasks module test/fixtures/tasks/nope.ts: no such file');
    await expect(loadTasksModule('test/fixtures/tasks/throws.ts')).rejects.toThrow('tasks module test/fixtures/tasks/throws.ts failed to load: boom at load');
    await expect(loadTasksModule('test/fixtures/tasks/bad-export.ts')).rejects.toThrow("tasks module test/fixtures/tasks/bad-export.ts: export 'tasks' is not a task (make tasks with defineTask)");
  });
  it('custom tasks train like built-in ones: batched sweep, seeded, scored against AdamW', async () => {
    const [mlp, reg] = await loadTasksModule('test/fixtures/tasks/good.ts');
    const run = () => evaluate(seedProgram('lion'), { tasks: [mlp!, reg!], lrs: [1e-3, 1e-2, 1e-1], backend: 'wasm', seed: 2 });
    const a = await run();
    const b = await run();
    expect(a.tasks.map((t) => t.batched)).toEqual([true, true]);
    expect(a.tasks.map((t) => t.loss)).toEqual(b.tasks.map((t) => t.loss));
    for (const t of a.tasks) {
      expect(t.loss).not.toBeNull();
      expect(t.score).not.toBeNull();
      expect(t.reference?.loss).not.toBeNull();
    }
  });
});

describe('tasks that cannot be gamed', () => {
  // SGD, and SGD that shifts every weight by -1 once (at step 1, because a slot starts at 0).
  const sgd = 'def train(w, g, lr):\n  return g * lr\n';
  const shifted = 'def train(w, g, s1, s2, lr):\n  s2 = expm1(log10(s1))\n  s1 = 1\n  return g * lr + s2, s1, s2\n';
  const loss = async (src: string, task: string, seed: number) =>
    (await evaluate(src, { tasks: [task], seed, steps: 100, lrs: [1e-3, 1e-2], backend: 'cpu', reference: false })).tasks[0]!.loss!;

  it('each seed draws where the optimum lies: a fixed shift helps on some seeds and hurts on others', async () => {
    const gains: number[] = [];
    for (let seed = 0; seed < 6; seed++) gains.push((await loss(sgd, 'rosenbrock', seed)) - (await loss(shifted, 'rosenbrock', seed)));
    expect(gains.filter((x) => x > 0).length).toBeGreaterThan(0);
    expect(gains.filter((x) => x < 0).length).toBeGreaterThan(0);
    // On the quadratic the optimum is N(0, 1) from the start: a shift of every weight by 1 moves away from it.
    let worse = 0;
    for (let seed = 0; seed < 6; seed++) if ((await loss(shifted, 'quadratic', seed)) > (await loss(sgd, 'quadratic', seed))) worse++;
    expect(worse).toBeGreaterThanOrEqual(5);
  });

  it('the evaluator flags the constant drift', async () => {
    const e = await evaluate(shifted, { tasks: ['quadratic'], steps: 5, lrs: [1e-2], backend: 'cpu', reference: false });
    expect(e.drift).toMatch(/^constant drift/);
    expect((await evaluate(sgd, { tasks: ['quadratic'], steps: 5, lrs: [1e-2], backend: 'cpu', reference: false })).drift).toBeUndefined();
  });
});
