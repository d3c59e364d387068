/**
 * The tf.Optimizer adapter: the tfjs contract (applyGradients with a map or
 * an array, minimize, iterations, getWeights/setWeights, getConfig/fromConfig
 * through tf.serialization), state keyed by variable name, no tensor leaked,
 * and clear errors for bad hyperparameters.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DslError } from '../../dsl/errors.js';
import { print as printProgram } from '../../dsl/print.js';
import { SEEDS, seedHparams, seedProgram, seedSource } from '../../seeds/index.js';
import type { Lowered } from '../../dsl/lower.js';
import { ProgramOptimizer, foldsLearningRate } from '../../src/optimizer.js';
import { optimizers } from '../../src/all-optimizers.js';
import { createOptimizer } from '../../src/optimizers.js';
import * as api from '../../src/index.js';

const f = Math.fround;
let made: { dispose(): void }[] = [];
/** Remembers what a test made, to free it afterwards. */
function own<T extends { dispose(): void }>(x: T): T {
  made.push(x);
  return x;
}
let counter = 0;
function variable(values: number[], shape?: number[]): tf.Variable {
  return own(tf.variable(tf.tensor(values, shape), true, `optimizer_test_${++counter}`));
}
function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => {
  for (const x of made) x.dispose();
  made = [];
});

describe('public entry', () => {
  it('exports the API of the design', () => {
    expect(typeof api.optimizers.adam).toBe('function');
    expect(typeof api.createOptimizer).toBe('function');
    expect(typeof api.parseProgram).toBe('function');
    expect(api.seedNames).toContain('lion');
  });

  it('has a function per seed and per library rule, each a tf.Optimizer', () => {
    // The seeds and the library's extra rules, then the second-order optimizers that optevo adds (test/src/second-order).
    expect(Object.keys(optimizers)).toEqual([...SEEDS.map((s) => s.name), 'adamax', 'newton', 'hessianFree']);
    for (const { name } of SEEDS) {
      const o = own(optimizers[name]());
      expect(o).toBeInstanceOf(tf.Optimizer);
      expect(o).toBeInstanceOf(ProgramOptimizer);
      expect(o.learningRate).toBe(seedHparams(name)['learningRate']);
    }
  });
});

describe('applyGradients', () => {
  it('takes one SGD step with exact float32 values', () => {
    const w = variable([1, 2, -3]);
    const opt = own(optimizers.sgd({ learningRate: 0.1 }));
    opt.applyGradients({ [w.name]: tf.tensor([0.5, -1, 0.25]) });
    expect(values(w)).toEqual([0.5, -1, 0.25].map((g, i) => f([1, 2, -3][i]! - f(f(0.1) * g))));
    expect(opt.iterations).toBe(1);
  });

  it('gives the same result for a map and an array', () => {
    const [a1, b1, a2, b2] = [variable([1, 2]), variable([3, 4, 5]), variable([1, 2]), variable([3, 4, 5])];
    const o1 = own(optimizers.adam({ learningRate: 0.1 }));
    const o2 = own(optimizers.adam({ learningRate: 0.1 }));
    for (let i = 0; i < 3; i++) {
      const ga = tf.tensor([0.5 * i - 1, 2]);
      const gb = tf.tensor([1, -1, 0.1 * i]);
      o1.applyGradients({ [a1.name]: ga, [b1.name]: gb });
      o2.applyGradients([
        { name: b2.name, tensor: gb },
        { name: a2.name, tensor: ga },
      ]);
      tf.dispose([ga, gb]);
    }
    expect(values(a1)).toEqual(values(a2));
    expect(values(b1)).toEqual(values(b2));
    expect(o1.iterations).toBe(3);
  });

  it('keys state by variable name, whatever the order or the subset', () => {
    // Momentum has no step count, so a variable's trajectory depends on its own gradients only.
    const [a, b, aAlone, bAlone] = [variable([1, 2]), variable([3]), variable([1, 2]), variable([3])];
    const together = own(optimizers.momentum({ learningRate: 0.1 }));
    const forA = own(optimizers.momentum({ learningRate: 0.1 }));
    const forB = own(optimizers.momentum({ learningRate: 0.1 }));
    const gA = [tf.tensor([1, -1]), tf.tensor([0.5, 0.5]), tf.tensor([2, 1])];
    const gB = [tf.tensor([2]), tf.tensor([-1]), tf.tensor([3])];
    together.applyGradients([
      { name: a.name, tensor: gA[0]! },
      { name: b.name, tensor: gB[0]! },
    ]);
    together.applyGradients([
      { name: b.name, tensor: gB[1]! },
      { name: a.name, tensor: gA[1]! },
    ]);
    together.applyGradients({ [a.name]: gA[2]! });
    together.applyGradients({ [b.name]: gB[2]! });
    for (const g of gA) forA.applyGradients({ [aAlone.name]: g });
    for (const g of gB) forB.applyGradients({ [bAlone.name]: g });
    expect(values(a)).toEqual(values(aAlone));
    expect(values(b)).toEqual(values(bAlone));
    tf.dispose([...gA, ...gB]);
  });

  it('skips variables without a gradient and rejects unknown names', () => {
    const w = variable([1]);
    const opt = own(optimizers.sgd());
    opt.applyGradients({ [w.name]: null as unknown as tf.Tensor });
    expect(values(w)).toEqual([1]);
    expect(() => opt.applyGradients({ no_such_variable: tf.scalar(1) })).toThrow(/no variable named 'no_such_variable'/);
  });

  it('rejects a variable whose shape changed under the same name', () => {
    const opt = own(optimizers.momentum());
    const name = `reshaped_${++counter}`;
    const v1 = tf.variable(tf.zeros([2]), true, name);
    opt.applyGradients({ [name]: tf.ones([2]) });
    v1.dispose();
    const v2 = own(tf.variable(tf.zeros([3]), true, name));
    expect(() => opt.applyGradients({ [v2.name]: tf.ones([3]) })).toThrow(/shape \[3\] but its optimizer state has shape \[2\]/);
  });

  it('leaks no tensor per step, for every seed', () => {
    for (const { name } of SEEDS) {
      const a = variable([0.5, -1, 2, 3], [2, 2]);
      const b = variable([1, 2, 3]);
      const ga = tf.tensor([[0.1, -0.2], [0.3, 0.4]]);
      const gb = tf.tensor([1, -1, 0.5]);
      const opt = own(optimizers[name]({ learningRate: 0.01 }));
      opt.applyGradients({ [a.name]: ga, [b.name]: gb });
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) opt.applyGradients({ [a.name]: ga, [b.name]: gb });
      expect(tf.memory().numTensors, name).toBe(before);
      tf.dispose([ga, gb]);
    }
  });

  it('frees its state and constants on dispose', () => {
    const w = variable([1, 2]);
    const start = tf.memory().numTensors;
    const opt = optimizers.adam();
    opt.applyGradients({ [w.name]: tf.tidy(() => tf.keep(tf.ones([2]))) });
    opt.dispose();
    // The gradient made above is the one tensor left.
    expect(tf.memory().numTensors).toBe(start + 1);
  });

  it('frees restored state on dispose', async () => {
    const w = variable([1, 2]);
    const g = own(tf.ones([2]));
    const start = tf.memory().numTensors;
    const a = optimizers.adam();
    a.applyGradients({ [w.name]: g });
    const b = optimizers.adam();
    const saved = await a.getWeights();
    await b.setWeights(saved);
    await b.setWeights(saved); // replaces, does not add
    tf.dispose(saved[0]!.tensor);
    a.dispose();
    b.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('assigns correctly when a program returns its inputs as state', () => {
    // Swaps two slots and keeps w itself as state: assignments must not see each other.
    const src = `def train(w, g, a, b, c, lr):
  update = lr * g + a
  return update, b, a + 1, w
`;
    const w = variable([10, 20]);
    const opt = own(createOptimizer(src, { learningRate: 1 }));
    const g = tf.tensor([1, 2]);
    opt.applyGradients({ [w.name]: g }); // a=0,b=0 -> w=[9,18]; a'=0, b'=1, c'=[10,20]
    opt.applyGradients({ [w.name]: g }); // a=0,b=1 -> w=[8,16]; a'=1, b'=1, c'=[9,18]
    opt.applyGradients({ [w.name]: g }); // a=1,b=1 -> w=[6,13]; a'=1, b'=2, c'=[8,16]
    expect(values(w)).toEqual([6, 13]);
    return opt.getWeights().then((ws) => {
      expect(ws.map((x) => x.name)).toEqual(['iter', `${w.name}/a`, `${w.name}/b`, `${w.name}/c`]);
      expect(ws.slice(1).map((x) => values(x.tensor))).toEqual([[1, 1], [2, 2], [8, 16]]);
      g.dispose();
    });
  });

  it('sees every variable at once (global reductions)', () => {
    const src = `def train(w, g, lr):
  return lr * g / global_norm(g)
`;
    const [a, b] = [variable([0, 0]), variable([0])];
    const opt = own(createOptimizer(src, { learningRate: 1 }));
    opt.applyGradients({ [a.name]: tf.tensor([3, 0]), [b.name]: tf.tensor([4]) });
    expect(values(a)).toEqual([-0.6000000238418579, 0]);
    expect(values(b)).toEqual([-0.800000011920929]);
  });
});

describe('foldsLearningRate', () => {
  it('tells programs that do number arithmetic on lr from those that only scale tensors by it', () => {
    const folds = (name: (typeof SEEDS)[number]['name']) => {
      const o = optimizers[name]();
      const r = foldsLearningRate((o as unknown as { compiled: { lowered: Lowered } }).compiled.lowered);
      o.dispose();
      return r;
    };
    expect(SEEDS.map((s) => s.name).filter(folds)).toEqual(['adam', 'adamw', 'amsgrad', 'adabelief']);
  });

  it('gives the same values either way', () => {
    // lr reaches the update through a copy and a multiply by a number: folded.
    const folded = `def train(w, g, lr):
  a = lr
  b = a * 2
  return b * g
`;
    const scaled = `def train(w, g, lr):
  return 2 * (lr * g)
`;
    const [a, b] = [variable([1, 2]), variable([1, 2])];
    const o1 = own(createOptimizer(folded, { learningRate: 0.1 }));
    const o2 = own(createOptimizer(scaled, { learningRate: 0.1 }));
    expect(foldsLearningRate((o1 as unknown as { compiled: { lowered: Lowered } }).compiled.lowered)).toBe(true);
    expect(foldsLearningRate((o2 as unknown as { compiled: { lowered: Lowered } }).compiled.lowered)).toBe(false);
    const g = own(tf.tensor([1, -4]));
    o1.applyGradients({ [a.name]: g });
    o2.applyGradients({ [b.name]: g });
    expect(values(a)).toEqual([f(1 - f(0.2)), f(2 + f(0.8))]);
    expect(values(b)).toEqual([f(1 - f(2 * f(f(0.1) * 1))), f(2 - f(2 * f(f(0.1) * -4)))]);
  });
});

describe('minimize', () => {
  it('lowers a quadratic and counts iterations', () => {
    const w = variable([3, -2]);
    const opt = own(optimizers.adam({ learningRate: 0.1 }));
    const loss = () => tf.sum(tf.square(w)) as tf.Scalar;
    const first = (opt.minimize(loss, true) as tf.Scalar).dataSync()[0]!;
    for (let i = 0; i < 49; i++) opt.minimize(loss);
    expect(opt.iterations).toBe(50);
    expect(tf.tidy(() => loss().dataSync()[0]!)).toBeLessThan(first / 10);
  });

  it('passes a var list through', () => {
    const [a, b] = [variable([1]), variable([1])];
    const opt = own(optimizers.sgd({ learningRate: 0.5 }));
    opt.minimize(() => tf.add(tf.sum(tf.square(a)), tf.sum(tf.square(b))) as tf.Scalar, false, [a]);
    expect(values(a)).toEqual([0]);
    expect(values(b)).toEqual([1]);
  });
});

describe('schedule', () => {
  it('scales the learning rate by schedule(step), step 1-based', () => {
    const w = variable([0]);
    const seen: number[] = [];
    const opt = own(
      optimizers.sgd(
        { learningRate: 0.5 },
        {
          schedule: (s) => {
            seen.push(s);
            return 1 / s;
          },
        },
      ),
    );
    const g = tf.tensor([1]);
    for (let i = 0; i < 3; i++) opt.applyGradients({ [w.name]: g });
    expect(seen).toEqual([1, 2, 3]);
    expect(values(w)).toEqual([f(f(f(-0.5) - f(0.25)) - f(0.5 / 3))]);
    expect(opt.learningRateAt(4)).toBe(0.125);
    g.dispose();
  });

  it('leaks nothing when the learning rate changes every step', () => {
    for (const name of ['sgd', 'adam'] as const) {
      const w = variable([1, 2]);
      const g = own(tf.ones([2]));
      const opt = own(optimizers[name]({ learningRate: 0.1 }, { schedule: (s) => 1 / s }));
      opt.applyGradients({ [w.name]: g });
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) opt.applyGradients({ [w.name]: g });
      opt.learningRate = 0.2;
      opt.applyGradients({ [w.name]: g });
      expect(tf.memory().numTensors, name).toBe(before);
    }
  });

  it('rejects a schedule that is not a function or gives a non-finite factor', () => {
    expect(() => optimizers.sgd({}, { schedule: 3 as unknown as () => number })).toThrow(/schedule must be a function/);
    const w = variable([0]);
    const opt = own(optimizers.sgd({}, { schedule: () => NaN }));
    expect(() => opt.applyGradients({ [w.name]: tf.tensor([1]) })).toThrow(/the schedule gave NaN at step 1/);
  });
});

describe('hyperparameters', () => {
  it('override the defaults by API name', () => {
    const o = own(optimizers.adamw({ learningRate: 0.5, weightDecay: 0.2 }));
    expect(o.learningRate).toBe(0.5);
    expect(o.hparams).toEqual({ beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.2 });
  });

  it('reject unknown names with the list of known ones', () => {
    expect(() => optimizers.adam({ betta1: 0.9 } as never)).toThrow("adam: unknown hyperparameter 'betta1'; it takes learningRate, beta1, beta2, epsilon");
    expect(() => optimizers.adamw({ weight_decay: 0.1 } as never)).toThrow("adamw: unknown hyperparameter 'weight_decay' (did you mean 'weightDecay'?)");
    expect(() => optimizers.sgd({ lr: 0.1 } as never)).toThrow(/unknown hyperparameter 'lr'/);
  });

  it('reject non-finite and non-numeric values', () => {
    expect(() => optimizers.adam({ beta1: NaN })).toThrow("adam: hyperparameter 'beta1' must be a finite number, got NaN");
    expect(() => optimizers.adam({ learningRate: Infinity })).toThrow(/'learningRate' must be a finite number, got Infinity/);
    expect(() => optimizers.adam({ epsilon: '1e-8' as unknown as number })).toThrow(/'epsilon' must be a finite number, got "1e-8"/);
    expect(() => optimizers.adam({ epsilon: null as unknown as number })).toThrow(/got null/);
    expect(() => optimizers.adam(null as never)).toThrow(/must be an object/);
    const o = own(optimizers.adam({ learningRate: 0.01 }));
    expect(() => (o.learningRate = NaN)).toThrow(/learningRate must be a finite number/);
  });

  it('treat undefined as not given', () => {
    expect(own(optimizers.adam({ beta1: undefined })).hparams['beta1']).toBe(0.9);
  });
});

describe('createOptimizer', () => {
  const src = `# heavy ball
momentum = 0.5

def train(w, g, v, lr):
  v = momentum * v + g
  return lr * v, v
`;

  it('takes source text or a parsed program', () => {
    const [a, b] = [variable([1]), variable([1])];
    const fromText = own(createOptimizer(src, { learningRate: 0.1, momentum: 0.25 }));
    const fromProgram = own(createOptimizer(api.parseProgram(src), { learningRate: 0.1, momentum: 0.25 }));
    for (let i = 0; i < 2; i++) {
      fromText.applyGradients({ [a.name]: tf.tensor([1]) });
      fromProgram.applyGradients({ [b.name]: tf.tensor([1]) });
    }
    // v1 = 1, v2 = 1.25: w = 1 - 0.1 - 0.125
    expect(values(a)).toEqual([f(f(f(1) - f(0.1)) - f(f(0.1) * f(1.25)))]);
    expect(values(b)).toEqual(values(a));
  });

  it('requires a learning rate when the program has no default', () => {
    expect(() => createOptimizer(src)).toThrow('optimizer: learningRate is required (the program declares no learning_rate default)');
  });

  it('reports program mistakes as DslError with a position', () => {
    expect(() => createOptimizer('def train(w, g, lr):\n  return lr * q\n', { learningRate: 1 })).toThrow(DslError);
    try {
      createOptimizer('def train(w, g, lr):\n  return lr * q\n', { learningRate: 1 });
    } catch (e) {
      expect((e as DslError).line).toBe(2);
      expect((e as DslError).message).toMatch(/undefined name 'q'/);
    }
  });
});

describe('serialization', () => {
  it('is registered with tf.serialization under its class name', () => {
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    expect(map[ProgramOptimizer.className]?.[0]).toBe(ProgramOptimizer);
    expect(own(optimizers.lion()).getClassName()).toBe('OptevoProgramOptimizer');
  });

  it('round-trips getConfig through fromConfig', () => {
    const o = own(optimizers.lion({ learningRate: 3e-4, weightDecay: 0.1 }));
    const config = o.getConfig();
    expect(config['seed']).toBe('lion');
    expect(config['hparams']).toEqual({ learningRate: 3e-4, beta1: 0.9, beta2: 0.99, weightDecay: 0.1 });
    const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap[o.getClassName()]!;
    const copy = own(fromConfig(cls, JSON.parse(JSON.stringify(config))) as ProgramOptimizer);
    expect(copy).toBeInstanceOf(ProgramOptimizer);
    expect(copy.getConfig()).toEqual(config);
    expect(copy.seed).toBe('lion');
    expect(Buffer.from(config['program'] as string, 'base64').toString('utf8')).toBe(printProgram(seedProgram('lion')));
  });

  it('takes plain program text as source', () => {
    const o = own(ProgramOptimizer.fromConfig(ProgramOptimizer, { source: seedSource('sgd'), hparams: { learningRate: 0.5 } }) as ProgramOptimizer);
    expect(o.learningRate).toBe(0.5);
    expect(o.seed).toBeUndefined();
  });

  it('rejects a malformed config', () => {
    expect(() => ProgramOptimizer.fromConfig(ProgramOptimizer, { hparams: {} })).toThrow(/needs 'program' \(base64\) or 'source' \(program text\)/);
    expect(() => ProgramOptimizer.fromConfig(ProgramOptimizer, { source: seedSource('sgd'), hparams: { nope: 1 } })).toThrow(/unknown hyperparameter 'nope'/);
  });

  it('resumes training exactly after getWeights / setWeights, for every seed', async () => {
    for (const { name } of SEEDS) {
      const a = variable([0.5, -1, 2, 3], [2, 2]);
      const b = variable([1, 2, 3]);
      const loss = (x: tf.Tensor, y: tf.Tensor) => () =>
        tf.add(tf.sum(tf.mul(tf.tensor([[1, 10], [3, 0.5]]), tf.square(tf.sub(x, 1)))), tf.sum(tf.pow(y, 4))) as tf.Scalar;
      const first = own(optimizers[name]({ learningRate: 0.01 }));
      for (let i = 0; i < 3; i++) first.minimize(loss(a, b), false, [a, b]);

      // A fresh optimizer, from the config, state restored, on copies of the weights.
      const a2 = variable(values(a), [2, 2]);
      const b2 = variable(values(b));
      const saved = await first.getWeights();
      expect(saved[0]!.name).toBe('iter');
      const renamed = saved.map((s) => ({
        name: s.name.replace(`${a.name}/`, `${a2.name}/`).replace(`${b.name}/`, `${b2.name}/`),
        tensor: s.tensor,
      }));
      const second = own(ProgramOptimizer.fromConfig(ProgramOptimizer, first.getConfig()) as ProgramOptimizer);
      await second.setWeights(renamed);
      expect(second.iterations).toBe(3);

      for (let i = 0; i < 3; i++) {
        first.minimize(loss(a, b), false, [a, b]);
        second.minimize(loss(a2, b2), false, [a2, b2]);
      }
      expect(values(a2), name).toEqual(values(a));
      expect(values(b2), name).toEqual(values(b));
      expect(second.iterations).toBe(6);
    }
  });

  it('hands restored state to renamed variables only when they match in order and shape', async () => {
    const a = variable([1, 2]);
    const b = variable([3]);
    const src = own(optimizers.momentum({ learningRate: 0.1 }));
    src.applyGradients({ [a.name]: own(tf.tensor([1, 1])), [b.name]: own(tf.tensor([2])) });
    const saved = await src.getWeights();
    const state = (o: ProgramOptimizer) => o.getWeights().then((ws) => ws.slice(1).map((w) => [w.name, values(w.tensor)]));

    // Renamed, same order and shapes: adopted.
    const [a2, b2] = [variable([1, 2]), variable([3])];
    const o1 = own(optimizers.momentum({ learningRate: 0.1 }));
    await o1.setWeights(saved);
    o1.applyGradients([
      { name: a2.name, tensor: own(tf.zeros([2])) },
      { name: b2.name, tensor: own(tf.zeros([1])) },
    ]);
    expect(await state(o1)).toEqual([
      [`${a2.name}/p`, [f(0.9), f(0.9)]],
      [`${b2.name}/p`, [f(f(0.9) * 2)]],
    ]);

    // Shapes in another order: nothing adopted, fresh state, the restored kept by name.
    const o2 = own(optimizers.momentum({ learningRate: 0.1 }));
    await o2.setWeights(saved);
    o2.applyGradients([
      { name: b2.name, tensor: own(tf.zeros([1])) },
      { name: a2.name, tensor: own(tf.zeros([2])) },
    ]);
    expect((await state(o2)).map(([n]) => n)).toEqual([`${a.name}/p`, `${b.name}/p`, `${b2.name}/p`, `${a2.name}/p`]);
    expect((await state(o2)).slice(2).map(([, v]) => v)).toEqual([[0], [0, 0]]);
  });

  it('rejects weights that are not its state', async () => {
    const o = own(optimizers.adam());
    const t = own(tf.zeros([2]));
    const iter = { name: 'iter', tensor: own(tf.scalar(0, 'int32')) };
    await expect(o.setWeights([iter, { name: 'w/q', tensor: t }])).rejects.toThrow(/'w\/q' is not a state of this optimizer \(expected VARIABLE\/m\|v\)/);
    await expect(o.setWeights([iter, { name: 'w/m', tensor: t }])).rejects.toThrow(/'w\/v' is missing/);
  });
});
