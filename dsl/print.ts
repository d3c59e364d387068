/**
 * The canonical text of a program. `parse(print(p))` gives `p` back, so
 * copying a program is print-then-parse and the text is the storage format.
 */
import type { Expr, Program } from './ast.js';
import { fn } from './functions.js';
import { formatNumber } from './literals.js';

const ATOM = 10;
const UNARY = 4;

function precOf(e: Expr): number {
  switch (e.type) {
    case 'num':
      return e.value < 0 || Object.is(e.value, -0) ? UNARY : ATOM;
    case 'name':
      return ATOM;
    case 'call': {
      if (e.fn === 'negative' && e.args[0]?.type !== 'num') return UNARY;
      return fn(e.fn)?.infix?.prec ?? ATOM;
    }
  }
}

export function printExpr(e: Expr): string {
  switch (e.type) {
    case 'num':
      return formatNumber(e.value);
    case 'name':
      return e.name;
    case 'call': {
      const row = fn(e.fn);
      const inf = row?.infix;
      if (inf && e.args.length === 2) {
        const [a, b] = e.args as [Expr, Expr];
        const pa = precOf(a);
        const pb = precOf(b);
        const leftParens = inf.assoc === 'left' ? pa < inf.prec : pa <= inf.prec;
        const rightParens = inf.assoc === 'right' ? pb < inf.prec : pb <= inf.prec;
        const l = leftParens ? `(${printExpr(a)})` : printExpr(a);
        const r = rightParens ? `(${printExpr(b)})` : printExpr(b);
        return `${l} ${inf.symbol} ${r}`;
      }
      // `-2` would read back as a literal, so negating a literal keeps its call form.
      if (e.fn === 'negative' && e.args.length === 1 && e.args[0]!.type !== 'num') {
        const a = e.args[0]!;
        return precOf(a) < UNARY ? `-(${printExpr(a)})` : `-${printExpr(a)}`;
      }
      return `${e.fn}(${e.args.map(printExpr).join(', ')})`;
    }
  }
}

export interface PrintOptions {
  /** Leave out the header comment. */
  noHeader?: boolean;
}

export function print(p: Program, options: PrintOptions = {}): string {
  const out: string[] = [];
  if (!options.noHeader) for (const h of p.header) out.push(h === '' ? '#' : `# ${h}`);
  for (const h of p.hparams) out.push(`${h.name} = ${formatNumber(h.value)}`);
  if (out.length) out.push('');
  const params = p.params.map((q) => (q.init === undefined ? q.name : `${q.name}=${formatNumber(q.init)}`));
  out.push(`def ${p.fnName}(${params.join(', ')}):`);
  for (const s of p.body) out.push(`  ${s.target} = ${printExpr(s.expr)}`);
  out.push(`  return ${p.returns.map(printExpr).join(', ')}`);
  return out.join('\n') + '\n';
}
