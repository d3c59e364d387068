/**
 * A grammar-aware fuzzer of the language's pipeline: parse -> check ->
 * simplify -> fingerprint -> interpret. Inputs are random programs drawn from
 * the grammar, seeds and drawn programs with their text mutated or
 * truncated, deeply nested expressions, and random byte strings. The
 * contract: every input is either carried through the whole pipeline or
 * rejected with a DslError whose line and column lie inside the input;
 * anything else is an internal error.
 */
import { check } from '../../dsl/check.js';
import { DslError } from '../../dsl/errors.js';
import { functionalFingerprint } from '../../dsl/fingerprint.js';
import { FUNCTIONS } from '../../dsl/functions.js';
import { interpreter } from '../../dsl/interpret.js';
import { mulberry32 } from '../../dsl/mulberry32.js';
import { parse } from '../../dsl/parse.js';
import { simplify } from '../../dsl/simplify.js';
import { seedNames, seedSource } from '../../seeds/index.js';

type R = () => number;
const int = (r: R, n: number) => Math.floor(r() * n);
const pick = <T>(r: R, xs: readonly T[]): T => xs[int(r, xs.length)]!;

const INFIX = FUNCTIONS.filter((f) => f.infix).map((f) => f.infix!.symbol);
const NAMED = FUNCTIONS.filter((f) => !f.infix);
const NUMBERS = ['0', '1', '2', '0.5', '1e-8', '0.9', '0.999', '3.0', '1e308', '.5', '-1', '1e400'];

function expr(r: R, names: readonly string[], depth: number): string {
  const leaf = () => (r() < 0.6 && names.length ? pick(r, names) : pick(r, NUMBERS));
  if (depth <= 0 || r() < 0.3) return leaf();
  switch (int(r, 4)) {
    case 0:
      return `${expr(r, names, depth - 1)} ${pick(r, INFIX)} ${expr(r, names, depth - 1)}`;
    case 1: {
      const f = pick(r, NAMED);
      return `${f.name}(${f.args.map(() => expr(r, names, depth - 1)).join(', ')})`;
    }
    case 2:
      return `(${expr(r, names, depth - 1)})`;
    default:
      return `-${expr(r, names, depth - 1)}`;
  }
}

/** A program drawn from the grammar: mostly well-formed, sometimes ill-kinded or with undefined names. */
export function randomProgram(r: R): string {
  const lines: string[] = [];
  if (r() < 0.3) lines.push('# a drawn program');
  const hps = Array.from({ length: int(r, 3) }, (_, i) => `h${i}`);
  for (const h of hps) lines.push(`${h} = ${pick(r, NUMBERS)}`);
  const slots = Array.from({ length: int(r, 4) }, (_, i) => `s${i}`);
  const params = ['w', 'g', ...(r() < 0.3 ? ['step'] : []), ...slots.map((s) => (r() < 0.2 ? `${s}=${pick(r, NUMBERS)}` : s)), 'lr'];
  if (r() < 0.1) params.splice(int(r, params.length), 1);
  lines.push(`def train(${params.join(', ')}):`);
  const names = ['w', 'g', 'lr', ...hps, ...slots];
  const n = int(r, 12);
  for (let i = 0; i < n; i++) {
    const target = r() < 0.3 && slots.length ? pick(r, slots) : `v${i}`;
    lines.push(`  ${target} = ${expr(r, names, 1 + int(r, 4))}`);
    names.push(target);
  }
  // The update usually depends on g, as the checker demands.
  const rets = [r() < 0.6 ? `(${expr(r, names, 2)}) * g` : expr(r, names, 2), ...slots.map((s) => (r() < 0.5 ? s : expr(r, names, 1)))];
  if (r() < 0.1) rets.pop();
  lines.push(`  return ${rets.join(', ')}`);
  return lines.join('\n') + '\n';
}

const TOKENS = ['(', ')', ',', '=', ':', '+', '-', '*', '/', '**', '<', '==', 'def', 'return', 'g', 'w', 'lr', 'sqrt', 'interp', '1e9', '#', '\t', '  ', '\n', '\r', 'é', '\u0000', 'β1'];

/** The text of a program, damaged: a span deleted, a token inserted, lines swapped or duplicated, indentation changed. */
export function mutateText(r: R, text: string): string {
  let s = text;
  for (let k = 1 + int(r, 3); k > 0; k--) {
    const at = int(r, s.length + 1);
    switch (int(r, 5)) {
      case 0:
        s = s.slice(0, at) + s.slice(at + 1 + int(r, 8));
        break;
      case 1:
        s = s.slice(0, at) + pick(r, TOKENS) + s.slice(at);
        break;
      case 2: {
        const ls = s.split('\n');
        const i = int(r, ls.length);
        ls.splice(i, 0, ls[int(r, ls.length)]!);
        s = ls.join('\n');
        break;
      }
      case 3: {
        const ls = s.split('\n');
        const [i, j] = [int(r, ls.length), int(r, ls.length)];
        [ls[i], ls[j]] = [ls[j]!, ls[i]!];
        s = ls.join('\n');
        break;
      }
      default:
        s = s.replace(/\n {2}/, pick(r, ['\n', '\n   ', '\n\t', '\n    ']));
    }
  }
  return s;
}

/** An expression nested 1 to 600 levels (brackets, calls, signs, operator chains): the limits of the recursive stages. */
export function deepProgram(r: R): string {
  const d = 1 + int(r, 600);
  let e = 'g';
  const kind = int(r, 4);
  for (let i = 0; i < d; i++) e = kind === 0 ? `(${e})` : kind === 1 ? `abs(${e})` : kind === 2 ? `-${e}` : `${e} + g`;
  return `def train(w, g, lr):\n  u = ${e}\n  return u * lr\n`;
}

export function randomBytes(r: R): string {
  const bytes = Buffer.from(Array.from({ length: int(r, 200) }, () => int(r, 256)));
  return r() < 0.5 ? bytes.toString('utf8') : bytes.toString('latin1');
}

const SEEDS = seedNames.map((n) => seedSource(n));

/** The i-th input of a run seeded with `seed`. */
export function input(seed: number, i: number): { kind: string; text: string } {
  const r = mulberry32((seed * 2654435761 + i) >>> 0);
  switch (i % 6) {
    case 0:
    case 1:
      return { kind: 'random', text: randomProgram(r) };
    case 2:
      return { kind: 'mutated', text: mutateText(r, r() < 0.5 ? pick(r, SEEDS) : randomProgram(r)) };
    case 3: {
      const t = r() < 0.5 ? pick(r, SEEDS) : randomProgram(r);
      return { kind: 'truncated', text: t.slice(0, int(r, t.length + 1)) };
    }
    case 4:
      return { kind: 'nested', text: deepProgram(r) };
    default:
      return { kind: 'bytes', text: randomBytes(r) };
  }
}

export type Verdict = 'accepted' | 'rejected' | { internal: string };

/** Runs one input through the pipeline. */
export function judge(text: string): Verdict {
  try {
    const p = parse(text);
    check(p);
    const s = simplify(p);
    check(s);
    functionalFingerprint(s);
    const it = interpreter(s);
    const ws = [Float64Array.from([0.5, -1, 2]), Float64Array.from([3])];
    let state = it.init(ws);
    for (let t = 0; t < 3; t++) state = it.step(ws, [Float64Array.from([1, -2, 0.25]), Float64Array.from([-1])], state, 0.1).state;
    return 'accepted';
  } catch (e) {
    if (!(e instanceof DslError)) return { internal: `${(e as Error)?.name}: ${(e as Error)?.message ?? String(e)}` };
    const lines = text.replace(/^\uFEFF/, '').split('\n');
    const line = lines[e.line - 1];
    if (line === undefined) return { internal: `DslError at line ${e.line}, beyond the input's ${lines.length} lines: ${e.message}` };
    if (e.column < 1 || e.column > line.length + 1) return { internal: `DslError at ${e.line}:${e.column}, outside the line (${line.length} characters): ${e.message}` };
    return 'rejected';
  }
}
