/**
 * Parser for the Python-like optimizer language.
 *
 * Line-oriented, like the Lion paper's listings: optional comment header,
 * top-level `name = number` hyperparameters, one `def NAME(params):` whose
 * indented body is assignments and a final `return`. Infix operators come
 * from the function table. Nothing here evaluates program text.
 */
import type { Assign, Expr, HParam, Param, Pos, Program } from './ast.js';
import { DslError } from './errors.js';
import { FUNCTION_ALIASES, FUNCTIONS, fn, fnBySymbol } from './functions.js';
import { literalAt, literalValue } from './literals.js';

type Tok =
  | { t: 'num'; v: number; pos: Pos; text: string }
  | { t: 'id'; v: string; pos: Pos }
  | { t: 'op'; v: string; pos: Pos }
  | { t: 'end'; pos: Pos };

const OPS = ['**', '<=', '>=', '==', '!=', '+', '-', '*', '/', '<', '>', '(', ')', ',', '=', ':'];
const ID_START = /[\p{L}_]/u;
const ID_CHAR = /[\p{L}\p{N}_]/u;
const RESERVED = new Set(['def', 'return']);

/**
 * Deepest expression the language accepts (brackets, calls, unary signs and
 * chains of operators all count). Every later stage walks expressions
 * recursively; this bound keeps them far from the JavaScript stack's limit,
 * and no real optimizer comes near it. Longer computations are split into
 * statements, which have no limit.
 */
export const MAX_EXPRESSION_DEPTH = 256;

function tokenize(text: string, line: number, startCol: number, file?: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const pos = { line, column: startCol + i };
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === '#') break;
    const literal = literalAt(text, i);
    if (literal !== undefined) {
      const after = text[i + literal.length];
      if (after !== undefined && ID_CHAR.test(after)) throw new DslError(`malformed number '${literal}${after}'`, pos, file);
      out.push({ t: 'num', v: literalValue(literal), pos, text: literal });
      i += literal.length;
      continue;
    }
    // Identifiers may use Unicode letters, as in Python (β1, λ).
    const cp = text.codePointAt(i)!;
    const cps = String.fromCodePoint(cp);
    if (ID_START.test(cps)) {
      let j = i + cps.length;
      while (j < text.length) {
        const c = String.fromCodePoint(text.codePointAt(j)!);
        if (!ID_CHAR.test(c)) break;
        j += c.length;
      }
      out.push({ t: 'id', v: text.slice(i, j).normalize('NFKC'), pos });
      i = j;
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (op) {
      out.push({ t: 'op', v: op, pos });
      i += op.length;
      continue;
    }
    throw new DslError(`unexpected character '${cps}'`, pos, file);
  }
  out.push({ t: 'end', pos: { line, column: startCol + text.replace(/\s+$/, '').length } });
  return out;
}

function describe(t: Tok): string {
  switch (t.t) {
    case 'num':
      return `number ${t.text}`;
    case 'id':
      return `'${t.v}'`;
    case 'op':
      return `'${t.v}'`;
    case 'end':
      return 'end of line';
  }
}

class LineParser {
  private i = 0;
  /** Nesting of the recursive descent, bounded so that brackets cannot exhaust the stack. */
  private depth = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly file?: string,
  ) {}

  peek(): Tok {
    return this.toks[this.i]!;
  }
  next(): Tok {
    return this.toks[this.i++]!;
  }
  fail(msg: string, t: Tok = this.peek()): never {
    throw new DslError(msg, t.pos, this.file);
  }
  isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === v;
  }
  expectOp(v: string, what = `'${v}'`): Tok {
    const t = this.peek();
    if (t.t !== 'op' || t.v !== v) this.fail(`expected ${what}, found ${describe(t)}`);
    return this.next();
  }
  expectId(what: string): { v: string; pos: Pos } {
    const t = this.peek();
    if (t.t !== 'id' || RESERVED.has(t.v)) this.fail(`expected ${what}, found ${describe(t)}`);
    this.next();
    return t as { v: string; pos: Pos };
  }
  expectEnd(): void {
    const t = this.peek();
    if (t.t !== 'end') this.fail(`expected end of line, found ${describe(t)}`);
  }

  /** A number with an optional sign, for hyperparameters and state defaults. */
  signedNumber(what: string): number {
    let sign = 1;
    if (this.isOp('-') || this.isOp('+')) {
      if ((this.next() as { v: string }).v === '-') sign = -1;
    }
    const t = this.peek();
    if (t.t !== 'num') this.fail(`expected ${what}, found ${describe(t)}`);
    this.next();
    return sign * t.v;
  }

  expr(): Expr {
    const e = this.nested(() => this.binary(1));
    if (this.depth === 0) this.boundDepth(e);
    return e;
  }

  private nested<T>(f: () => T): T {
    if (++this.depth > MAX_EXPRESSION_DEPTH) this.fail(`expression nested more than ${MAX_EXPRESSION_DEPTH} levels deep; split it into statements`);
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  /** Chains of operators build deep trees without deep recursion here: measure the tree, without recursion. */
  private boundDepth(root: Expr): void {
    const stack: [Expr, number][] = [[root, 1]];
    while (stack.length) {
      const [e, d] = stack.pop()!;
      if (d > MAX_EXPRESSION_DEPTH)
        throw new DslError(`expression nested more than ${MAX_EXPRESSION_DEPTH} levels deep; split it into statements`, e.pos, this.file);
      if (e.type === 'call') for (const a of e.args) stack.push([a, d + 1]);
    }
  }

  private binary(minPrec: number): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.t !== 'op') break;
      const row = fnBySymbol(t.v);
      const inf = row?.infix;
      if (!row || !inf || inf.prec < minPrec || inf.prec === 5) break;
      this.next();
      const right = this.binary(inf.assoc === 'left' ? inf.prec + 1 : inf.prec + 1);
      left = { type: 'call', fn: row.name, args: [left, right], pos: t.pos };
      if (inf.assoc === 'none') {
        const n = this.peek();
        if (n.t === 'op' && fnBySymbol(n.v)?.infix?.prec === inf.prec) this.fail(`comparisons cannot be chained; add parentheses`, n);
      }
    }
    return left;
  }

  // Python: unary minus binds looser than ** and tighter than * and /.
  private unary(): Expr {
    const t = this.peek();
    if (t.t === 'op' && (t.v === '-' || t.v === '+')) {
      this.next();
      const operand = this.nested(() => this.unary());
      if (t.v === '+') return operand;
      if (operand.type === 'num') return { type: 'num', value: -operand.value, pos: t.pos };
      return { type: 'call', fn: 'negative', args: [operand], pos: t.pos };
    }
    return this.power();
  }

  private power(): Expr {
    const base = this.primary();
    const t = this.peek();
    if (t.t === 'op' && t.v === '**') {
      this.next();
      const exp = this.nested(() => this.unary());
      return { type: 'call', fn: 'power', args: [base, exp], pos: t.pos };
    }
    return base;
  }

  private primary(): Expr {
    const t = this.peek();
    if (t.t === 'num') {
      this.next();
      return { type: 'num', value: t.v, pos: t.pos };
    }
    if (t.t === 'op' && t.v === '(') {
      this.next();
      const e = this.expr();
      this.expectOp(')', "')'");
      return e;
    }
    if (t.t === 'id' && !RESERVED.has(t.v)) {
      this.next();
      if (this.isOp('(')) {
        this.next();
        const args: Expr[] = [];
        if (!this.isOp(')')) {
          for (;;) {
            args.push(this.expr());
            if (this.isOp(',')) {
              this.next();
              continue;
            }
            break;
          }
        }
        this.expectOp(')', "',' or ')'");
        const name = FUNCTION_ALIASES[t.v] ?? t.v;
        const row = fn(name);
        if (!row) this.fail(`unknown function '${t.v}'${suggest(t.v)}`, t);
        if (row.args.length !== args.length)
          this.fail(`${row.name} takes ${row.args.length} argument${row.args.length === 1 ? '' : 's'}, got ${args.length}`, t);
        return { type: 'call', fn: name, args, pos: t.pos };
      }
      return { type: 'name', name: t.v, pos: t.pos };
    }
    this.fail(`expected an expression, found ${describe(t)}`);
  }
}

function suggest(name: string): string {
  const close = FUNCTIONS.map((r) => r.name).filter((n) => editDistance(n, name) <= 2);
  return close.length ? ` (did you mean ${close.map((c) => `'${c}'`).join(' or ')}?)` : '';
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

export interface ParseOptions {
  /** File name for error messages. */
  file?: string;
}

/** Parses program text. Throws `DslError` with the line and column of the first problem. */
export function parse(source: string, options: ParseOptions = {}): Program {
  const file = options.file;
  if (typeof source !== 'string') throw new DslError('program source must be text', undefined, file);
  const lines = source.replace(/^\uFEFF/, '').split(/\n/);
  const draft: Draft = { header: [], hparams: [], body: [], seenCode: false };
  lines.forEach((line, i) => readLine(draft, line.replace(/\r$/, ''), i + 1, file));
  return finish(draft, lines.length, file);
}

/** The program read so far, line by line. */
interface Draft {
  header: string[];
  hparams: HParam[];
  def?: { fnName: string; params: Param[]; pos: Pos };
  body: Assign[];
  ret?: { returns: Expr[]; pos: Pos };
  /** The indentation of the first body line, which every other must repeat. */
  bodyIndent?: string;
  /** Whether a line of code came yet: comments before it are the header. */
  seenCode: boolean;
}

/** One line: blank, a comment, a top-level line (`def`, a hyperparameter) or a body line. */
function readLine(d: Draft, raw: string, lineNo: number, file: string | undefined): void {
  const trimmed = raw.trim();
  if (trimmed === '') return;
  if (trimmed.startsWith('#')) {
    if (!d.seenCode) d.header.push(trimmed.replace(/^#\s?/, ''));
    return;
  }
  d.seenCode = true;
  const indent = /^[ \t]*/.exec(raw)![0];
  const p = new LineParser(tokenize(raw.slice(indent.length), lineNo, indent.length + 1, file), file);
  if (indent === '') readTopLevel(d, p, file);
  else readBodyLine(d, p, indent, lineNo, file);
}

function readTopLevel(d: Draft, p: LineParser, file: string | undefined): void {
  const first = p.peek();
  if (d.def && !d.ret) throw new DslError(`expected an indented statement or 'return' in '${d.def.fnName}'`, first.pos, file);
  if (first.t === 'id' && first.v === 'def') {
    if (d.def) p.fail(`only one 'def' is allowed per program`, first);
    d.def = readDef(p, file);
    return;
  }
  d.hparams.push(readHparam(p, d.hparams, file));
}

/** `def NAME(params):` */
function readDef(p: LineParser, file: string | undefined): NonNullable<Draft['def']> {
  const pos = p.next().pos;
  const fnName = p.expectId('a function name').v;
  p.expectOp('(', "'('");
  const params = p.isOp(')') ? [] : readParams(p, file);
  p.expectOp(')', "',' or ')'");
  p.expectOp(':', "':'");
  p.expectEnd();
  return { fnName, params, pos };
}

/** `name` or `name=number` (a state slot's initial value), separated by commas; a trailing comma is allowed. */
function readParams(p: LineParser, file: string | undefined): Param[] {
  const params: Param[] = [];
  for (;;) {
    const pn = p.expectId('a parameter name');
    if (params.some((q) => q.name === pn.v)) throw new DslError(`duplicate parameter '${pn.v}'`, pn.pos, file);
    let init: number | undefined;
    if (p.isOp('=')) {
      p.next();
      init = p.signedNumber('a number (the initial value of the state slot)');
    }
    params.push(init === undefined ? { name: pn.v, pos: pn.pos } : { name: pn.v, init, pos: pn.pos });
    if (!p.isOp(',')) return params;
    p.next();
    if (p.isOp(')')) return params;
  }
}

/** A top-level hyperparameter: `name = number`. */
function readHparam(p: LineParser, earlier: readonly HParam[], file: string | undefined): HParam {
  const id = p.expectId("a hyperparameter ('name = number') or 'def'");
  p.expectOp('=', "'='");
  const value = p.signedNumber('a number');
  p.expectEnd();
  if (earlier.some((h) => h.name === id.v)) throw new DslError(`duplicate hyperparameter '${id.v}'`, id.pos, file);
  if (fn(id.v)) throw new DslError(`'${id.v}' is a function name and cannot be a hyperparameter`, id.pos, file);
  return { name: id.v, value, pos: id.pos };
}

/** An indented line inside the `def`, before its `return`: an assignment or the `return`. */
function readBodyLine(d: Draft, p: LineParser, indent: string, lineNo: number, file: string | undefined): void {
  const first = p.peek();
  if (!d.def) throw new DslError(`unexpected indentation outside 'def'`, first.pos, file);
  if (d.ret) throw new DslError(`statement after 'return'`, first.pos, file);
  if (d.bodyIndent === undefined) d.bodyIndent = indent;
  else if (indent !== d.bodyIndent) throw new DslError(`inconsistent indentation`, { line: lineNo, column: 1 }, file);
  if (first.t === 'id' && first.v === 'return') d.ret = readReturn(p);
  else d.body.push(readAssign(p));
}

/** `return e1, e2, ...`; a trailing comma is allowed. */
function readReturn(p: LineParser): NonNullable<Draft['ret']> {
  const pos = p.next().pos;
  const returns: Expr[] = [];
  for (;;) {
    returns.push(p.expr());
    if (!p.isOp(',')) break;
    p.next();
    if (p.peek().t === 'end') break;
  }
  p.expectEnd();
  return { returns, pos };
}

/** `name = expression` */
function readAssign(p: LineParser): Assign {
  const target = p.expectId("an assignment ('name = expression') or 'return'");
  p.expectOp('=', "'='");
  const expr = p.expr();
  p.expectEnd();
  return { target: target.v, expr, pos: target.pos };
}

/** The program, once every line is read: it needs its `def` and its `return`. */
function finish(d: Draft, lineCount: number, file: string | undefined): Program {
  if (!d.def) throw new DslError(`expected 'def train(w, g, ..., lr):'`, { line: Math.max(1, lineCount), column: 1 }, file);
  if (!d.ret) throw new DslError(`'${d.def.fnName}' has no 'return'`, d.def.pos, file);
  const { header, hparams, body } = d;
  return { header, hparams, fnName: d.def.fnName, params: d.def.params, body, returns: d.ret.returns, returnPos: d.ret.pos };
}
