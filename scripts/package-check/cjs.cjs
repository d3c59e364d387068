const tf = require('@tensorflow/tfjs');
const lib = require('@optevo/optimizers');

tf.env().set('PROD', true);
import('./problem.mjs')
  .then(({ run }) => run(tf, lib))
  .then((r) => console.log(JSON.stringify(r)))
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
