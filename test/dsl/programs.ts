/** Programs and a random generator shared by the language tests. */
import fc from 'fast-check';
import type { Assign, Expr, Program } from '../../dsl/ast.js';
import { FUNCTIONS, scalarOnly } from '../../dsl/functions.js';

export const ADAMW = `# AdamW, as the Lion paper's search starts from it
def train(w, g, m, v, lr):
  g2 = square(g)
  m = interp(g, m, 0.9)
  v = interp(g2, v, 0.999)
  sqrt_v = sqrt(v)
  update = m / sqrt_v
  wd = w * 0.01
  update = update + wd
  lr = lr * 0.001
  update = update * lr
  return update, m, v
`;

export const LION = `β1 = 0.9
β2 = 0.99
λ = 0.01

def train(weight, gradient, momentum, lr):
  update = interp(gradient, momentum, β1)
  update = sign(update)
  momentum = interp(gradient, momentum, β2)
  weight_decay = weight * λ
  update = update + weight_decay
  update = update * lr
  return update, momentum
`;

/** Rows a random program may use: everything but the ones that need a scalar argument slot handled below. */
const ROWS = FUNCTIONS.filter((r) => r.form !== 'constant');

/**
 * Random valid-looking flat programs: statements drawn from the function
 * table over names in scope. Kinds are respected for scalar-only arguments
 * by giving those a constant or `lr`.
 */
export function arbProgram(maxStatements = 12): fc.Arbitrary<Program> {
  return fc
    .record({
      slots: fc.integer({ min: 0, max: 2 }),
      stmts: fc.array(
        fc.record({
          row: fc.integer({ min: 0, max: ROWS.length - 1 }),
          picks: fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
          consts: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 3, maxLength: 3 }),
          useConst: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
          target: fc.nat(),
        }),
        { minLength: 1, maxLength: maxStatements },
      ),
      ret: fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
    })
    .map(({ slots, stmts, ret }) => {
      const slotNames = ['m', 'v'].slice(0, slots);
      const tensors = ['w', 'g', ...slotNames];
      const scalars = ['lr'];
      const body: Assign[] = [];
      stmts.forEach((s, i) => {
        const row = ROWS[s.row]!;
        const args: Expr[] = row.args.map((kind, j) => {
          if (scalarOnly(kind) || s.useConst[j]) return s.useConst[j] || scalars.length === 0 ? { type: 'num', value: Math.round(s.consts[j]! * 1000) / 1000 } : { type: 'name', name: scalars[s.picks[j]! % scalars.length]! };
          return { type: 'name', name: tensors[s.picks[j]! % tensors.length]! };
        });
        const isScalar = row.form === 'reduction' && row.result === 'scalar';
        const pool = isScalar ? [`s${i}`] : [`t${i}`, ...slotNames];
        const target = pool[s.target % pool.length]!;
        body.push({ target, expr: { type: 'call', fn: row.name, args } });
        if (isScalar) scalars.push(target);
        else if (!tensors.includes(target)) tensors.push(target);
      });
      // The update reads g so the checker accepts it.
      const last = tensors[tensors.length - 1]!;
      body.push({ target: 'update', expr: { type: 'call', fn: 'add', args: [{ type: 'name', name: last }, { type: 'call', fn: 'mul', args: [{ type: 'name', name: 'g' }, { type: 'num', value: 0.5 }] }] } });
      const returns: Expr[] = [{ type: 'name', name: 'update' }, ...slotNames.map((_, i) => ({ type: 'name', name: tensors[ret[i]! % tensors.length]! }) as Expr)];
      return { header: [], hparams: [], fnName: 'train', params: [{ name: 'w' }, { name: 'g' }, ...slotNames.map((name) => ({ name })), { name: 'lr' }], body, returns };
    });
}

/** Runs a program for a few steps through the reference interpreter; returns every update. */
export { };
