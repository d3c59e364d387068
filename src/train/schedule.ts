/**
 * Learning-rate schedules: the factor the sweep rate is multiplied by at each
 * step (the program's `lr` is rate x factor). Steps are 1-based.
 *  - constant: 1
 *  - step: factor ** floor((t - 1) / every)
 *  - cosine: from 1 down to `final` over the run, half a cosine
 *  - linear warmup (with any of them): t / warmup for the first `warmup` steps
 */
export type Schedule =
  | { kind: 'constant'; warmup?: number }
  | { kind: 'step'; every: number; factor: number; warmup?: number }
  | { kind: 'cosine'; final?: number; warmup?: number };

export function scheduleFactor(s: Schedule, t: number, steps: number): number {
  const warm = s.warmup ?? 0;
  if (warm > 0 && t <= warm) return t / warm;
  switch (s.kind) {
    case 'constant':
      return 1;
    case 'step':
      return Math.pow(s.factor, Math.floor((t - 1) / s.every));
    case 'cosine': {
      const final = s.final ?? 0;
      const span = Math.max(1, steps - warm - 1);
      const p = Math.min(1, Math.max(0, (t - warm - 1) / span));
      return final + (1 - final) * 0.5 * (1 + Math.cos(Math.PI * p));
    }
    default: {
      const never: never = s;
      throw new Error(`unknown schedule ${JSON.stringify(never)}`);
    }
  }
}

/** Parses `constant`, `step:EVERY:FACTOR`, `cosine[:FINAL]`, each optionally followed by `+warmup:N`. */
export function parseSchedule(text: string): Schedule {
  const [main, ...mods] = text.trim().split('+');
  let warmup: number | undefined;
  for (const m of mods) {
    const w = /^warmup:(\d+)$/.exec(m);
    if (!w) throw new Error(`unknown schedule modifier '${m}' (expected warmup:N)`);
    warmup = Number(w[1]);
  }
  const parts = (main ?? '').split(':');
  const base = ((): Schedule => {
    switch (parts[0]) {
      case 'constant':
        return { kind: 'constant' };
      case 'step': {
        const every = Number(parts[1]);
        const factor = Number(parts[2] ?? 0.1);
        if (!(every >= 1) || !(factor > 0)) throw new Error(`bad step schedule '${text}' (expected step:EVERY:FACTOR)`);
        return { kind: 'step', every, factor };
      }
      case 'cosine': {
        const final = parts[1] === undefined ? 0 : Number(parts[1]);
        if (!(final >= 0)) throw new Error(`bad cosine schedule '${text}'`);
        return { kind: 'cosine', final };
      }
      default:
        throw new Error(`unknown schedule '${text}' (expected constant, step:EVERY:FACTOR or cosine[:FINAL], with optional +warmup:N)`);
    }
  })();
  return warmup === undefined ? base : { ...base, warmup };
}
