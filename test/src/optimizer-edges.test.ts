/** Library edges of issue 13: misuse is a clear error naming what is wrong, never a silent broadcast. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createOptimizer, optimizers } from '../../src/index.js';

describe('createOptimizer and applyGradients on bad input', () => {
  it('createOptimizer(null) says what it expected', () => {
    expect(() => createOptimizer(null as never)).toThrow("createOptimizer: expected a program's text or a parsed program (parseProgram), got null");
    expect(() => createOptimizer({} as never)).toThrow(/got an object that is not a program/);
    expect(() => createOptimizer(42 as never)).toThrow(/got number/);
  });

  it('a gradient not shaped like its variable is refused, naming the variable', () => {
    const v = tf.variable(tf.zeros([2, 3]), true, 'edges_w');
    const opt = optimizers.sgd({ learningRate: 0.1 });
    expect(() => opt.applyGradients({ edges_w: tf.scalar(1) })).toThrow(/the gradient of 'edges_w' has shape \[\], but the variable has shape \[2, 3\]/);
    expect(() => opt.applyGradients({ edges_w: tf.ones([3, 2]) })).toThrow(/the gradient of 'edges_w' has shape \[3, 2\]/);
    expect(Array.from(v.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    opt.applyGradients({ edges_w: tf.ones([2, 3]) });
    expect(Array.from(v.dataSync()).map((x) => Math.round(x * 10) / 10)).toEqual([-0.1, -0.1, -0.1, -0.1, -0.1, -0.1]);
    v.dispose();
  });
});
