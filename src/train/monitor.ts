/**
 * Watches one run's training loss step by step: divergence (a NaN, an
 * infinity, or a loss far above where it started) stops the run at once with
 * a reason; a plateau (no real progress of the smoothed loss for a while) is
 * noted and reported; a sampled curve is kept.
 */

export interface MonitorOptions {
  steps: number;
  /** A loss above `divergence` times the first loss (and above it by at least 1) is divergence. */
  divergence: number;
  /** Steps without a relative improvement of `plateauTolerance` in the smoothed loss that make a plateau. */
  plateauWindow: number;
  plateauTolerance: number;
  /** Points kept in the curve. */
  curvePoints: number;
  /** Called at every curve point (about 50 times a run): progress for whoever watches. */
  onStep?: (step: number) => void;
}

export const DEFAULT_MONITOR: Omit<MonitorOptions, 'steps'> = {
  divergence: 100,
  plateauWindow: 0, // 0: a tenth of the run, at least 10 steps
  plateauTolerance: 1e-3,
  curvePoints: 50,
};

export class Monitor {
  readonly curve: number[] = [];
  failure: string | undefined;
  failedAt: number | undefined;
  plateauAt: number | undefined;
  private start = NaN;
  private ema = NaN;
  private best = Infinity;
  private bestAt = 0;
  private readonly every: number;
  private readonly window: number;
  private last = NaN;

  constructor(private readonly o: MonitorOptions) {
    this.every = Math.max(1, Math.ceil(o.steps / o.curvePoints));
    this.window = o.plateauWindow > 0 ? o.plateauWindow : Math.max(10, Math.floor(o.steps / 10));
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Records the loss of 1-based step t; returns false when the run must stop. */
  record(t: number, loss: number): boolean {
    if (this.failure) return false;
    this.last = loss;
    if (!Number.isFinite(loss)) {
      this.fail(t, Number.isNaN(loss) ? `NaN loss at step ${t}` : `infinite loss at step ${t}`);
      return false;
    }
    if (t === 1 || Number.isNaN(this.start)) this.start = loss;
    else if (loss > this.o.divergence * Math.abs(this.start) && loss > this.start + 1) {
      this.fail(t, `diverged at step ${t}: loss ${fmt(loss)} from ${fmt(this.start)}`);
      return false;
    }
    if ((t - 1) % this.every === 0 || t === this.o.steps) {
      this.curve.push(loss);
      this.o.onStep?.(t);
    }
    this.ema = Number.isNaN(this.ema) ? loss : 0.8 * this.ema + 0.2 * loss;
    if (this.best === Infinity || this.ema < this.best - this.o.plateauTolerance * Math.abs(this.best)) {
      this.best = this.ema;
      this.bestAt = t;
    } else if (this.plateauAt === undefined && t - this.bestAt >= this.window) {
      this.plateauAt = this.bestAt;
    }
    return true;
  }

  fail(t: number, reason: string): void {
    if (this.failure) return;
    this.failure = reason;
    this.failedAt = t;
    if (Number.isFinite(this.last)) this.curve.push(this.last);
  }
}

function fmt(x: number): string {
  return Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : x.toPrecision(4);
}
