/**
 * Hessian-free optimization (truncated Newton-CG) after Martens (2010),
 * "Deep learning via Hessian-free optimization", ICML:
 *
 *  1. loss f0 and gradient g at w;
 *  2. conjugate gradient on (B + lambda I) p = -g, where B is the
 *     Gauss-Newton matrix (`curvature: 'gauss-newton'`, for a `splitLoss`)
 *     or the Hessian (`'hessian'`), used only through products; CG starts
 *     from the previous step's final CG iterate times `cgDecay` and stops by
 *     Martens' relative-progress test (cg.ts);
 *  3. CG backtracking: of the iterates kept at iterations ceil(1.3^j), walk
 *     back from the last while the loss keeps decreasing;
 *  4. Levenberg-Marquardt damping from the reduction ratio
 *     rho = (f(w + p) - f0) / q(p), q the undamped quadratic model:
 *     lambda times `dampingIncrease` when rho < 1/4, times `dampingDecrease`
 *     when rho > 3/4;
 *  5. a backtracking (Armijo) line search along p (Martens and Sutskever
 *     2012), then w += learningRate alpha p.
 *
 * Curvature mini-batches (Martens' products on a fraction of the data) come
 * with the loss: `withCurvatureBatch(splitLoss(...all...), splitLoss(...subset...), fraction)`.
 * Not included: Martens' diagonal preconditioner (it needs per-example
 * gradients; `minimize` gets one closure) and structural damping (for
 * recurrent networks).
 */
import * as tf from '@tensorflow/tfjs';
import { type CgResult, conjugateGradient } from './cg.js';
import { ClosureOptimizer, backtrack } from './closure-optimizer.js';
import { gaussNewtonVector, hessianVector, lossAndGradient, lossOnly } from './curvature.js';
import type { HparamRule } from './hparams.js';
import { isSplitLoss } from './split-loss.js';
import { TENSOR_SPACE, type TensorList, axpyLists, disposeList, dotLists } from './tensor-space.js';

export type Curvature = 'gauss-newton' | 'hessian';

export interface HessianFreeHparams {
  /** Scale of the step after the line search (1: as found). */
  learningRate: number;
  /** The initial Levenberg-Marquardt damping lambda. */
  damping: number;
  curvature: Curvature;
  maxCgIterations: number;
  /** Martens' eps in CG's relative-progress stopping test. */
  cgTolerance: number;
  /** CG starts from the previous final iterate times this. */
  cgDecay: number;
  /** lambda is multiplied by this when rho < 1/4 ... */
  dampingIncrease: number;
  /** ... and by this when rho > 3/4. */
  dampingDecrease: number;
  lineSearch: boolean;
}

export const HESSIAN_FREE_DEFAULTS: Readonly<HessianFreeHparams> = Object.freeze({
  learningRate: 1,
  damping: 1,
  curvature: 'gauss-newton' as Curvature,
  maxCgIterations: 100,
  cgTolerance: 5e-4,
  cgDecay: 0.95,
  dampingIncrease: 1.5,
  dampingDecrease: 2 / 3,
  lineSearch: true,
});

const RULES: { readonly [K in keyof HessianFreeHparams]: HparamRule } = {
  learningRate: { kind: 'number', positive: true },
  damping: { kind: 'number', positive: true },
  curvature: { kind: 'choice', values: ['gauss-newton', 'hessian'] },
  maxCgIterations: { kind: 'number', integer: true, min: 1 },
  cgTolerance: { kind: 'number', positive: true },
  cgDecay: { kind: 'number', min: 0 },
  dampingIncrease: { kind: 'number', min: 1 },
  dampingDecrease: { kind: 'number', positive: true },
  lineSearch: { kind: 'boolean' },
};

export interface HessianFreeStep {
  loss: number;
  /** The loss where the step ended. */
  newLoss: number;
  cgIterations: number;
  cgStop: CgResult<TensorList>['stop'];
  /** The CG iterate that backtracking chose. */
  chosenIteration: number;
  rho: number;
  /** lambda after this step's update. */
  damping: number;
  alpha: number;
}

export class HessianFreeOptimizer extends ClosureOptimizer<HessianFreeHparams> {
  static get className(): string {
    return 'OptevoHessianFree';
  }

  /** The current Levenberg-Marquardt lambda. */
  damping: number;
  /** Previous final CG iterate by variable name (CG's warm start). */
  private readonly directions = new Map<string, tf.Tensor>();
  lastStep: HessianFreeStep | undefined;

  constructor(hparams?: Partial<HessianFreeHparams>) {
    super('hessianFree', hparams, HESSIAN_FREE_DEFAULTS, RULES);
    this.damping = this.hparams.damping;
  }

  protected step(f: () => tf.Scalar, vars: tf.Variable[]): number {
    const h = this.hparams;
    const gaussNewton = h.curvature === 'gauss-newton';
    if (gaussNewton && !isSplitLoss(f))
      throw new Error(
        "hessianFree: curvature 'gauss-newton' needs the loss split into the model's outputs and a convex loss of them: " +
          "minimize(splitLoss(() => model(x), 'mse', y)) (model.fit passes only the loss). Or set curvature: 'hessian'",
      );
    const { loss: f0, grads } = lossAndGradient(f, vars);
    this.cost.add('gradient');
    const b = tf.tidy(() => grads.map((g) => tf.neg(g)));
    // Curvature on the loss's curvature batch where it has one (Martens 2010), else on the loss itself.
    const curv = gaussNewton && isSplitLoss(f) ? (f.curvature?.split ?? f) : null;
    const fraction = gaussNewton && isSplitLoss(f) ? (f.curvature?.fraction ?? 1) : 1;
    const z = curv !== null ? tf.tidy(() => curv.outputs()) : null;
    const lambda = this.damping;
    const apply = (v: TensorList): TensorList => {
      const bv = z !== null && curv !== null ? gaussNewtonVector(curv, vars, z, v, 'hessianFree') : hessianVector(f, vars, v, 'hessianFree');
      const out = axpyLists(lambda, v, bv);
      disposeList(bv);
      return out;
    };
    const warm = vars.map((v) => this.directions.get(v.name));
    const x0IsZero = warm.some((d, i) => d === undefined || !sameShape(d, vars[i]!)) || h.cgDecay === 0;
    const x0 = x0IsZero ? tf.tidy(() => vars.map((v) => tf.zeros(v.shape))) : tf.tidy(() => warm.map((d) => tf.mul(d!, h.cgDecay)));
    const cg = conjugateGradient(TENSOR_SPACE, apply, b, x0, x0IsZero, { maxIterations: h.maxCgIterations, tolerance: h.cgTolerance });
    disposeList(x0);
    this.cost.add(gaussNewton ? 'gaussNewtonVector' : 'hessianVector', cg.products * fraction);
    const last = cg.iterates[cg.iterates.length - 1]!;

    const w0 = vars.map((v) => tf.clone(v));
    const lossAt = (d: TensorList, a: number): number => {
      ClosureOptimizer.moveTo(vars, w0, a, d);
      this.cost.add('loss');
      return lossOnly(f);
    };

    // CG backtracking (Martens 2010, section 4.6).
    let chosen = cg.iterates.length - 1;
    let fChosen = Number.NaN;
    let direction: TensorList;
    let residual: TensorList | null;
    if (dotLists(last.x, last.x) === 0) {
      // CG made no progress (negative curvature at once): fall back on the gradient, scaled by the damping.
      direction = tf.tidy(() => b.map((t) => tf.div(t, Math.max(lambda, 1e-12))));
      residual = null;
    } else {
      fChosen = lossAt(last.x, 1);
      for (let j = cg.iterates.length - 2; j >= 0; j--) {
        const fj = lossAt(cg.iterates[j]!.x, 1);
        if (!(fj < fChosen)) break;
        chosen = j;
        fChosen = fj;
      }
      direction = cg.iterates[chosen]!.x;
      residual = cg.iterates[chosen]!.r;
    }

    // Reduction ratio against the undamped model q(p) = g.p + 1/2 p.B p; B p = b - r - lambda p.
    const gp = -dotLists(b, direction);
    const pp = dotLists(direction, direction);
    let rho = Number.NEGATIVE_INFINITY;
    if (residual !== null) {
      const q = 0.5 * gp - 0.5 * dotLists(direction, residual) - 0.5 * lambda * pp;
      rho = q < 0 && Number.isFinite(fChosen) ? (fChosen - f0) / q : Number.NEGATIVE_INFINITY;
    }
    if (rho < 0.25) this.damping = lambda * h.dampingIncrease;
    else if (rho > 0.75) this.damping = lambda * h.dampingDecrease;

    let alpha = 1;
    let newLoss = fChosen;
    if (h.lineSearch) {
      const ls = backtrack((a) => lossAt(direction, a), f0, gp, Number.isFinite(fChosen) ? fChosen : undefined);
      alpha = ls.alpha;
      newLoss = ls.loss;
    } else if (!Number.isFinite(newLoss)) newLoss = Number.NaN;
    ClosureOptimizer.moveTo(vars, w0, alpha * h.learningRate, direction);

    // The next CG starts from this one's final iterate (not the backtracked one), as in Martens (2010).
    for (const [i, v] of vars.entries()) {
      this.directions.get(v.name)?.dispose();
      this.directions.set(v.name, tf.keep(tf.clone(last.x[i]!)));
    }
    this.lastStep = {
      loss: f0,
      newLoss,
      cgIterations: last.iteration,
      cgStop: cg.stop,
      chosenIteration: residual === null ? 0 : cg.iterates[chosen]!.iteration,
      rho,
      damping: this.damping,
      alpha,
    };
    if (residual === null) disposeList(direction);
    for (const it of cg.iterates) {
      disposeList(it.x);
      disposeList(it.r);
    }
    disposeList(w0);
    disposeList(grads);
    disposeList(b);
    z?.dispose();
    return f0;
  }

  /** The step count, then `damping` (lambda), then each variable's CG warm start as `VARIABLE/direction`. */
  override async getWeights(): Promise<{ name: string; tensor: tf.Tensor }[]> {
    const out = [await this.saveIterations(), { name: 'damping', tensor: tf.scalar(this.damping) }];
    for (const [name, t] of this.directions) out.push({ name: `${name}/direction`, tensor: t });
    return out;
  }

  override async setWeights(weightValues: { name: string; tensor: tf.Tensor }[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    const next = new Map<string, tf.Tensor>();
    let damping: number | undefined;
    for (const { name, tensor } of rest) {
      if (name === 'damping') damping = (await tensor.data())[0];
      else if (name.endsWith('/direction')) next.set(name.slice(0, -'/direction'.length), tensor);
      else throw new Error(`hessianFree: setWeights: '${name}' is not a state of this optimizer (expected damping or VARIABLE/direction)`);
    }
    if (damping !== undefined && !(damping > 0)) throw new Error(`hessianFree: setWeights: damping must be positive, got ${damping}`);
    this.disposeDirections();
    for (const [k, t] of next) this.directions.set(k, tf.keep(tf.clone(t)));
    if (damping !== undefined) this.damping = damping;
  }

  private disposeDirections(): void {
    for (const t of this.directions.values()) t.dispose();
    this.directions.clear();
  }

  override dispose(): void {
    this.disposeDirections();
    super.dispose();
  }
}

function sameShape(a: tf.Tensor, b: tf.Tensor): boolean {
  return a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

tf.serialization.registerClass(HessianFreeOptimizer);
