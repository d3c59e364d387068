// The one training run every consumer of the packages makes (Node ESM and
// CommonJS, the esbuild and Vite bundles in Chromium): a small tfjs-layers
// model from fixed weights, fitted full-batch with optevo's AdamW wrapped in
// global-norm clipping. `tf` and the library come in as arguments, so the
// same code runs however they were loaded. On the cpu backend every run
// must give the same weights.
export async function run(tf, lib) {
  await tf.setBackend('cpu');
  const fixed = (n, seed) => {
    let s = seed >>> 0;
    return Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 31 - 1));
  };
  const model = tf.sequential({
    layers: [tf.layers.dense({ units: 8, inputShape: [4], activation: 'tanh' }), tf.layers.dense({ units: 2 })],
  });
  model.setWeights([tf.tensor2d(fixed(32, 1), [4, 8]), tf.tensor1d(fixed(8, 2)), tf.tensor2d(fixed(16, 3), [8, 2]), tf.tensor1d(fixed(2, 4))]);
  const optimizer = lib.chain(lib.clipByGlobalNorm(1), lib.optimizers.adamw({ learningRate: 0.02 }));
  model.compile({ optimizer, loss: 'meanSquaredError' });
  const x = tf.tensor2d(fixed(64 * 4, 5), [64, 4]);
  const y = tf.tensor2d(fixed(64 * 2, 6), [64, 2]);
  const history = await model.fit(x, y, { epochs: 40, batchSize: 64, shuffle: false, verbose: 0 });
  const losses = history.history.loss;
  const weights = model.getWeights().flatMap((w) => Array.from(w.dataSync()));
  const config = optimizer.getConfig();
  tf.dispose([x, y]);
  return { first: losses[0], last: losses[losses.length - 1], weights, config };
}
