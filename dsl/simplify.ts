/**
 * The simplifier. Two levels:
 *
 * - `removeDead`: drops statements whose results never reach the update,
 *   minding that state flows between steps: a statement feeding a returned
 *   state slot is live when that slot's incoming value is read by live code.
 * - `simplify`: a value graph of the program (so names, reassignment and
 *   statement order stop mattering), rewritten by exact rules (constant
 *   folding, identities such as x * 1 and --x, copy propagation, common
 *   subexpressions, canonical order of commutative operands), then printed
 *   back as flat statements, reusing the original names where they are free.
 *   Unused state slots are dropped.
 *
 * Both return a valid program with the same updates, step for step.
 */
import { type Assign, type Expr, type Program, type Param, namesIn, roleOf, stateSlots } from './ast.js';
import { flatten } from './flatten.js';
import { freshNamer, usedNames } from './names.js';
import { type FnRow, FUNCTIONS, fn, foldsOnLiterals, reduceNumbers } from './functions.js';
import { hashList, hashListHex, hashNumbers } from './hash.js';

function deadAnalysis(p: Program, stateFlow: boolean): { keep: boolean[]; liveSlots: Set<string> } {
  const slots = stateSlots(p).map((q) => q.name);
  let live = new Set<string>(stateFlow ? [] : slots);
  for (;;) {
    const need = new Set<string>(namesIn(p.returns[0]!));
    slots.forEach((s, i) => live.has(s) && namesIn(p.returns[i + 1]!).forEach((n) => need.add(n)));
    const keep = new Array<boolean>(p.body.length).fill(false);
    for (let i = p.body.length - 1; i >= 0; i--) {
      const s = p.body[i]!;
      if (!need.has(s.target)) continue;
      keep[i] = true;
      need.delete(s.target);
      namesIn(s.expr).forEach((n) => need.add(n));
    }
    const next = new Set(slots.filter((s) => need.has(s)));
    if (!stateFlow || next.size === live.size) return { keep, liveSlots: live };
    live = next;
  }
}

export interface RemoveDeadOptions {
  /**
   * Follow state from one step to the next (the default): a slot whose
   * incoming value no live statement reads is dead, and so is what feeds its
   * next value. `false` treats every returned slot as live, as the Lion
   * paper's tool did.
   */
  stateFlow?: boolean;
}

export function removeDead(p: Program, opts: RemoveDeadOptions = {}): Program {
  const { keep, liveSlots: live } = deadAnalysis(p, opts.stateFlow ?? true);
  const slots = stateSlots(p);
  // A dead slot may return anything: its own name needs no statement.
  const returns = p.returns.map((r, i) => (i === 0 || live.has(slots[i - 1]!.name) ? r : ({ type: 'name', name: slots[i - 1]!.name } as Expr)));
  return { ...p, body: p.body.filter((_, i) => keep[i]), returns };
}

// ---------------------------------------------------------------------------
// The value graph.

type Node =
  | { kind: 'param'; name: string; hash: number }
  | { kind: 'hparam'; name: string; value: number; hash: number }
  | { kind: 'const'; value: number; hash: number }
  | { kind: 'call'; row: FnRow; args: Node[]; hash: number; names: string[]; order: number };

// Hash tags of the node kinds; call nodes are tagged by their row's index.
const ROLE_TAG: Record<string, number> = { w: -1, g: -2, lr: -3, step: -4 };
const SLOT = -5;
const HPARAM = -6;
const CONST = -7;
const ROW_INDEX = new Map(FUNCTIONS.map((r, i) => [r.name, i]));

export interface ValueGraph {
  program: Program;
  /** Update first, then each live slot's next value (dead slots: null). */
  returns: (Node | null)[];
  slots: Param[];
  live: Set<string>;
}

const rank = (n: Node): number => (n.kind === 'const' ? 2 : n.kind === 'hparam' ? 1 : 0);
const byRank = (x: Node, y: Node): number => rank(x) - rank(y) || x.hash - y.hash;
const isConst = (n: Node, c: number): boolean => n.kind === 'const' && n.value === c;
const def = (n: Node | undefined, f: string): Node | undefined => (n && n.kind === 'call' && n.row.name === f ? n.args[0]! : undefined);

class Builder {
  private readonly interned = new Map<number | string, Node>();
  private order = 0;

  param(name: string, index: number, init: number | undefined): Node {
    const role = roleOf(name);
    // Slots are identified by position and initial value, not by name.
    const hash = role ? hashNumbers(ROLE_TAG[role]!) : hashNumbers(SLOT, index, init ?? 0);
    return this.intern({ kind: 'param', name, hash });
  }
  hparam(name: string, value: number): Node {
    return this.intern({ kind: 'hparam', name, value, hash: hashNumbers(HPARAM, value) }, `hp:${name}`);
  }
  constant(value: number): Node {
    return this.intern({ kind: 'const', value, hash: hashNumbers(CONST, value) });
  }
  private intern(n: Node, key: number | string = n.hash): Node {
    const got = this.interned.get(key);
    if (got) return got;
    this.interned.set(key, n);
    return n;
  }

  call(row: FnRow, args0: Node[], name: string): Node {
    let args = args0;
    // Constant folding (when the result is finite: a literal must print).
    if (row.form === 'constant') return this.constant(row.value);
    let allConst = true;
    for (const x of args) if (x.kind !== 'const') allConst = false;
    if (allConst && foldsOnLiterals(row)) {
      const xs = args.map((x) => (x as { value: number }).value);
      const r = row.form === 'elementwise' ? row.f(...xs) : reduceNumbers(row, [xs])[0]!;
      if (Number.isFinite(r)) return this.constant(r);
    }
    // Exact identities.
    const a = args[0];
    const b = args[1];
    switch (row.name) {
      case 'add':
        if (isConst(b!, 0)) return a!;
        if (isConst(a!, 0)) return b!;
        break;
      case 'sub':
        if (isConst(b!, 0)) return a!;
        break;
      case 'mul':
        if (isConst(b!, 1)) return a!;
        if (isConst(a!, 1)) return b!;
        break;
      case 'div':
      case 'power':
        if (isConst(b!, 1)) return a!;
        break;
      case 'negative': {
        const inner = def(a, 'negative');
        if (inner) return inner;
        break;
      }
      case 'abs':
      case 'sqrt':
      case 'square': {
        const inner = def(a, 'negative');
        if (inner) return this.call(row, [inner], name);
        if (row.name === 'abs' && def(a, 'abs')) return a!;
        break;
      }
      case 'sign':
        if (def(a, 'sign')) return a!;
        break;
      case 'maximum':
      case 'minimum':
        if (a === b) return a!;
        break;
      case 'where':
        if (args[1] === args[2]) return args[1]!;
        break;
    }
    // Canonical operand order: values before hyperparameters before literals
    // (so `m * 0.9`, not `0.9 * m`), then by hash.
    if (row.commutative && args.length === 2 && byRank(args[0]!, args[1]!) > 0) args = [args[1]!, args[0]!];
    else if (row.commutative && args.length > 2) args = [...args].sort(byRank);
    const id = ROW_INDEX.get(row.name)!;
    const hash =
      args.length <= 3 ? hashNumbers(id, args[0]?.hash ?? -1, args[1]?.hash ?? -1, args[2]?.hash ?? -1) : hashList([id, ...args.map((x) => x.hash)]);
    const got = this.interned.get(hash);
    if (got) {
      if (got.kind === 'call' && !got.names.includes(name)) got.names.push(name);
      return got;
    }
    const n: Node = { kind: 'call', row, args, hash, names: [name], order: this.order++ };
    this.interned.set(hash, n);
    return n;
  }
}

/** Nodes reachable from the roots. Without recursion: a chain of statements is as deep as the program is long. */
function reachable(roots: readonly Node[]): Set<Node> {
  const seen = new Set<Node>();
  const stack = [...roots];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    if (n.kind === 'call') stack.push(...n.args);
  }
  return seen;
}

export function valueGraph(program: Program): ValueGraph {
  const p = flatten(program);
  const b = new Builder();
  const env = new Map<string, Node>();
  const slots = stateSlots(p);
  // Slots are numbered among the live ones, so that an unused slot, wherever
  // it stands, changes no hash.
  const liveByStatements = deadAnalysis(p, true).liveSlots;
  const liveOnes = slots.filter((q) => liveByStatements.has(q.name));
  const slotIndex = (q: Param) => (liveByStatements.has(q.name) ? liveOnes.indexOf(q) : -1 - slots.indexOf(q));
  p.params.forEach((q) => env.set(q.name, b.param(q.name, slotIndex(q), q.init)));
  const hp = new Map(p.hparams.map((h) => [h.name, h.value]));
  const nodeOf = (e: Expr, target: string): Node => {
    switch (e.type) {
      case 'num':
        return b.constant(e.value);
      case 'name': {
        const n = env.get(e.name);
        if (n) return n;
        const h = hp.get(e.name);
        if (h === undefined) throw new Error(`undefined name '${e.name}'`);
        return b.hparam(e.name, h);
      }
      case 'call':
        return b.call(fn(e.fn)!, e.args.map((x) => nodeOf(x, target)), target);
    }
  };
  for (const s of p.body) env.set(s.target, nodeOf(s.expr, s.target));
  const rets = p.returns.map((r) => nodeOf(r, ''));

  // Slots whose incoming value reaches the update, to a fixpoint.
  const slotNode = new Map(slots.map((q) => [q.name, b.param(q.name, slotIndex(q), q.init)]));
  let live = new Set<string>();
  for (;;) {
    const seen = reachable([rets[0]!, ...slots.flatMap((q, i) => (live.has(q.name) ? [rets[i + 1]!] : []))]);
    const next = new Set(slots.filter((q) => seen.has(slotNode.get(q.name)!)).map((q) => q.name));
    if (next.size === live.size) break;
    live = next;
  }
  return { program: p, returns: rets.map((r, i) => (i === 0 || live.has(slots[i - 1]!.name) ? r : null)), slots, live };
}

/** Structural hash: the same for programs that differ in names, dead code or commutative order. */
export function structuralHashOf(g: ValueGraph): string {
  const liveSlots = g.slots.filter((q) => g.live.has(q.name));
  return hashListHex([...g.returns.filter((r) => r !== null).map((r) => r.hash), -2, ...liveSlots.map((q) => q.init ?? 0)]);
}

/**
 * Family hash: the structural hash with every constant abstracted (literals
 * and hyperparameters alike, whatever their values). Programs that differ
 * only in their constants (heavy ball with momentum 0.9 or 0.95) are one
 * family: one idea, tuned differently.
 */
export function familyHashOf(g: ValueGraph): string {
  const memo = new Map<Node, number>();
  // Iterative post-order: a long chain of statements must not overflow the call stack.
  const of = (root: Node): number => {
    const stack: Node[] = [root];
    while (stack.length > 0) {
      const n = stack[stack.length - 1]!;
      if (memo.has(n)) {
        stack.pop();
        continue;
      }
      if (n.kind === 'call') {
        const missing = n.args.filter((a) => !memo.has(a));
        if (missing.length > 0) {
          stack.push(...missing);
          continue;
        }
      }
      let h: number;
      switch (n.kind) {
        case 'param':
          h = n.hash;
          break;
        case 'hparam':
        case 'const':
          h = hashNumbers(CONST);
          break;
        case 'call': {
          const args = n.args.map((a) => memo.get(a)!);
          if (n.row.commutative) args.sort((a, b) => a - b);
          h = hashList([ROW_INDEX.get(n.row.name)!, ...args]);
          break;
        }
      }
      memo.set(n, h);
      stack.pop();
    }
    return memo.get(root)!;
  };
  return hashListHex([...g.returns.filter((r) => r !== null).map(of), -3]);
}

export function simplify(program: Program): Program {
  return simplifyGraph(valueGraph(program));
}

/** The simplified program of an already built value graph. */
export function simplifyGraph(g: ValueGraph): Program {
  const p = g.program;
  const params = p.params.filter((q) => roleOf(q.name) !== undefined || g.live.has(q.name));
  const roots: Node[] = [g.returns[0]!, ...g.returns.slice(1).filter((r): r is Node => r !== null)];

  // Call nodes reachable from the roots, in their original order.
  const reach = reachable(roots);
  const calls = [...reach].filter((n): n is Extract<Node, { kind: 'call' }> => n.kind === 'call').sort((a, b) => a.order - b.order);

  // Last use of each node: the index of the last statement reading it, or
  // Infinity when a return reads it.
  const lastUse = new Map<Node, number>();
  calls.forEach((c, i) => c.args.forEach((a) => lastUse.set(a, i)));
  roots.forEach((r) => lastUse.set(r, Infinity));

  let namer: (() => string) | undefined;
  const fresh = () => (namer ??= freshNamer(usedNames(p)))();
  const holder = new Map<string, Node>(); // name -> node it holds now
  const nameOf = new Map<Node, string>();
  for (const n of reach) {
    if (n.kind === 'param') {
      holder.set(n.name, n);
      nameOf.set(n, n.name);
    }
  }
  const hparamsUsed = new Set<string>();
  const operand = (n: Node): Expr => {
    switch (n.kind) {
      case 'const':
        return { type: 'num', value: n.value };
      case 'hparam':
        hparamsUsed.add(n.name);
        return { type: 'name', name: n.name };
      default:
        return { type: 'name', name: nameOf.get(n)! };
    }
  };
  const body: Assign[] = [];
  calls.forEach((c, i) => {
    const free = (x: string) => {
      const held = holder.get(x);
      return held === undefined || (lastUse.get(held) ?? -1) <= i;
    };
    const target = c.names.find((x) => x !== '' && free(x)) ?? fresh();
    body.push({ target, expr: { type: 'call', fn: c.row.name, args: c.args.map(operand) } });
    holder.set(target, c);
    nameOf.set(c, target);
  });
  const returns: Expr[] = [];
  for (const r of [g.returns[0]!, ...g.returns.slice(1)]) {
    if (r === null) continue;
    if (r.kind === 'param' && holder.get(r.name) !== r) {
      // The parameter's name was reused: keep a copy (rare).
      const t = fresh();
      body.unshift({ target: t, expr: { type: 'name', name: r.name } });
      nameOf.set(r, t);
    }
    returns.push(operand(r));
  }
  return {
    header: p.header,
    hparams: p.hparams.filter((h) => hparamsUsed.has(h.name) || h.name === 'learning_rate'),
    fnName: p.fnName,
    params,
    body,
    returns,
  };
}
