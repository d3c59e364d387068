/**
 * Hyperparameter checking for the second-order optimizers: known names only
 * (with a suggestion for a near miss), finite numbers, and the right sign.
 */
export type HparamRule = { kind: 'number'; min?: number; integer?: boolean; positive?: boolean } | { kind: 'boolean' } | { kind: 'choice'; values: readonly string[] };

export function checkHparams<T extends Record<string, unknown>>(label: string, given: unknown, defaults: T, rules: { readonly [K in keyof T]: HparamRule }): T {
  if (given === undefined) return { ...defaults };
  if (given === null || typeof given !== 'object' || Array.isArray(given)) throw new Error(`${label}: hyperparameters must be an object such as { learningRate: 1 }`);
  const names = Object.keys(defaults);
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(given)) {
    if (!names.includes(k)) {
      const near = names.find((n) => n.toLowerCase() === k.toLowerCase());
      throw new Error(`${label}: unknown hyperparameter '${k}'${near ? ` (did you mean '${near}'?)` : ''}; it takes ${names.join(', ')}`);
    }
    if (v === undefined) continue;
    const r = rules[k as keyof T];
    if (r.kind === 'number') {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${label}: hyperparameter '${k}' must be a finite number, got ${JSON.stringify(v) ?? typeof v}`);
      if (r.positive && !(v > 0)) throw new Error(`${label}: hyperparameter '${k}' must be positive, got ${v}`);
      if (r.min !== undefined && v < r.min) throw new Error(`${label}: hyperparameter '${k}' must be at least ${r.min}, got ${v}`);
      if (r.integer && !Number.isInteger(v)) throw new Error(`${label}: hyperparameter '${k}' must be an integer, got ${v}`);
    } else if (r.kind === 'boolean') {
      if (typeof v !== 'boolean') throw new Error(`${label}: hyperparameter '${k}' must be true or false, got ${JSON.stringify(v)}`);
    } else if (!r.values.includes(v as string)) {
      throw new Error(`${label}: hyperparameter '${k}' must be one of ${r.values.map((x) => `'${x}'`).join(', ')}, got ${JSON.stringify(v)}`);
    }
    out[k] = v;
  }
  return out as T;
}
