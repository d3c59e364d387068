/**
 * The element loop of a fused step (fuse.ts) as WebAssembly SIMD: four
 * float32 lanes an instruction, over arrays in a memory the caller imports
 * (tfjs-backend-wasm's heap, where the tensors already are). JavaScript's
 * scalar float64 loop costs 2-7 ns an element, more than tfjs's own
 * vectorised kernels on large tensors; this costs a fraction of a
 * nanosecond, and rounds every operation to float32 as those kernels do.
 *
 * The functions in SIMD_FUNCTIONS have a SIMD form; any other (exp, log,
 * power of a tensor, ...) is the table's `f`, imported and called lane by
 * lane in float64 (its argument and result rounded to float32).
 *
 * The function takes, in order: a byte offset per input array, per output
 * array, the number of 4-lane groups, and the per-replica scalars (f32).
 */

/** What an operand of a SIMD definition is. */
export type SimdRef = { readonly input: number } | { readonly r: number } | { readonly lit: number } | { readonly def: number };

export interface SimdSpec {
  readonly inputs: number;
  readonly outputs: number;
  /** Scalars passed per call (per replica and parameter). */
  readonly scalars: number;
  /**
   * Definitions in order: a table function's name (or 'copy') and its
   * operands; `call` for a function without a SIMD form: the index of its
   * imported `f` in `calls`.
   */
  readonly defs: readonly { readonly fn: string; readonly args: readonly SimdRef[]; readonly call?: number }[];
  /** Arity of each imported function (imported as `f.<index>`, taking and giving float64). */
  readonly calls: readonly number[];
  /** What each output array receives. */
  readonly outs: readonly SimdRef[];
}

/** The table's functions with a SIMD form. */
export const SIMD_FUNCTIONS: ReadonlySet<string> = new Set([
  'add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'abs', 'negative', 'sqrt', 'square', 'cube', 'reciprocal', 'sign',
  'less', 'greater', 'less_equal', 'greater_equal', 'equal', 'not_equal', 'where', 'clamp', 'interp', 'float32', 'copy',
]);

// Opcodes (the WebAssembly core and SIMD specifications).
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_CONST = 0x41;
const F32_CONST = 0x43;
const I32_EQZ = 0x45;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const BLOCK = 0x02;
const LOOP = 0x03;
const BR_IF = 0x0d;
const END = 0x0b;
const VOID = 0x40;
const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const SIMD = 0xfd;
const F64 = 0x7c;
const CALL = 0x10;
const F64_PROMOTE_F32 = 0xbb;
const F32_DEMOTE_F64 = 0xb6;
const EXTRACT_LANE = 0x1f;
const REPLACE_LANE = 0x20;
const V = {
  load: 0x00,
  store: 0x0b,
  splat: 0x13,
  eq: 0x41,
  ne: 0x42,
  lt: 0x43,
  gt: 0x44,
  le: 0x45,
  ge: 0x46,
  and: 0x4e,
  bitselect: 0x52,
  abs: 0xe0,
  neg: 0xe1,
  sqrt: 0xe3,
  add: 0xe4,
  sub: 0xe5,
  mul: 0xe6,
  div: 0xe7,
  min: 0xe8,
  max: 0xe9,
} as const;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

function f32bytes(v: number): number[] {
  return [...new Uint8Array(Float32Array.of(v).buffer)];
}

/**
 * A module of one exported function `run(i32 x params)` with these locals
 * (each `[...uleb(count), type]`) and code (ending in `end`), importing only
 * the heap as `e.m`: the form of the hand-written kernels over tfjs's heap.
 */
export function runModule(params: number, locals: number[][], code: number[]): Uint8Array {
  const body = [...vec(locals), ...code];
  const type = [0x60, ...vec(Array.from({ length: params }, () => [0x7f])), ...vec([])];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([type])),
    ...section(2, vec([[...str('e'), ...str('m'), 0x02, 0x00, ...uleb(0)]])),
    ...section(3, vec([uleb(0)])),
    ...section(7, vec([[...str('run'), 0x00, ...uleb(0)]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

const str = (s: string) => [...uleb(s.length), ...new TextEncoder().encode(s)];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];

/** The module's bytes: imports memory `e.m` and the functions `f.0`, `f.1`, ..., exports `run`. */
export function emitSimd(spec: SimdSpec): Uint8Array {
  const { inputs, outputs, scalars } = spec;
  // Parameters: input offsets, output offsets, groups, scalars.
  const pIn = (j: number) => j;
  const pOut = (j: number) => inputs + j;
  const pN = inputs + outputs;
  const pR = (j: number) => pN + 1 + j;
  const nparams = pN + 1 + scalars;
  // Locals after the parameters: the byte offset, then v128s.
  const lOff = nparams;
  let nv = 0;
  const v128 = () => lOff + 1 + nv++;
  const lZero = v128();
  const lOne = v128();
  const lIn = Array.from({ length: inputs }, () => v128());
  const lR = Array.from({ length: scalars }, () => v128());
  // Literals by their float32 bits (-0 is not 0).
  const lits = new Map<string, { local: number; value: number }>();
  const litLocal = (v: number) => {
    const key = Object.is(Math.fround(v), -0) ? '-0' : String(Math.fround(v));
    let l = lits.get(key);
    if (!l) lits.set(key, (l = { local: v128(), value: v }));
    return l.local;
  };
  const lDef = spec.defs.map(() => v128());

  const code: number[] = [];
  const op = (...b: number[]) => code.push(...b);
  const simd = (o: number) => op(SIMD, ...uleb(o));
  const get = (l: number) => op(LOCAL_GET, ...uleb(l));
  const set = (l: number) => op(LOCAL_SET, ...uleb(l));
  const ref = (r: SimdRef): number => ('input' in r ? lIn[r.input]! : 'r' in r ? lR[r.r]! : 'def' in r ? lDef[r.def]! : litLocal(r.lit));
  for (const d of spec.defs) for (const a of d.args) if ('lit' in a) litLocal(a.lit);
  for (const o of spec.outs) if ('lit' in o) litLocal(o.lit);

  const splat = (value: () => void, l: number) => {
    value();
    simd(V.splat);
    set(l);
  };
  splat(() => op(F32_CONST, ...f32bytes(0)), lZero);
  splat(() => op(F32_CONST, ...f32bytes(1)), lOne);
  lR.forEach((l, j) => splat(() => get(pR(j)), l));
  for (const { local, value } of lits.values()) splat(() => op(F32_CONST, ...f32bytes(value)), local);

  op(BLOCK, VOID);
  get(pN);
  op(I32_EQZ, BR_IF, 0);
  op(LOOP, VOID);
  for (let j = 0; j < inputs; j++) {
    get(pIn(j));
    get(lOff);
    op(I32_ADD);
    simd(V.load);
    op(2, 0); // align 4 bytes, offset 0
    set(lIn[j]!);
  }
  spec.defs.forEach((d, n) => {
    const a = d.args.map(ref);
    const bin = (o: number) => {
      get(a[0]!);
      get(a[1]!);
      simd(o);
    };
    const mask01 = () => {
      get(lOne);
      simd(V.and);
    };
    if (d.call !== undefined) {
      // Lane by lane: f(promoted lanes), demoted, into a copy of the first argument.
      get(a[0]!);
      for (let lane = 0; lane < 4; lane++) {
        for (const x of a) {
          get(x);
          simd(EXTRACT_LANE);
          op(lane, F64_PROMOTE_F32);
        }
        op(CALL, ...uleb(d.call));
        op(F32_DEMOTE_F64);
        simd(REPLACE_LANE);
        op(lane);
      }
      set(lDef[n]!);
      return;
    }
    switch (d.fn) {
      case 'add':
        bin(V.add);
        break;
      case 'sub':
        bin(V.sub);
        break;
      case 'mul':
        bin(V.mul);
        break;
      case 'div':
        bin(V.div);
        break;
      case 'maximum':
        bin(V.max);
        break;
      case 'minimum':
        bin(V.min);
        break;
      case 'abs':
        get(a[0]!);
        simd(V.abs);
        break;
      case 'negative':
        get(a[0]!);
        simd(V.neg);
        break;
      case 'sqrt':
        get(a[0]!);
        simd(V.abs);
        simd(V.sqrt);
        break;
      case 'square':
        get(a[0]!);
        get(a[0]!);
        simd(V.mul);
        break;
      case 'cube':
        get(a[0]!);
        get(a[0]!);
        simd(V.mul);
        get(a[0]!);
        simd(V.mul);
        break;
      case 'reciprocal':
        get(lOne);
        get(a[0]!);
        simd(V.div);
        break;
      case 'sign':
        // NaN stays NaN: x where x != x, else (x > 0) - (x < 0).
        get(a[0]!);
        get(a[0]!);
        get(lZero);
        simd(V.gt);
        mask01();
        get(a[0]!);
        get(lZero);
        simd(V.lt);
        mask01();
        simd(V.sub);
        get(a[0]!);
        get(a[0]!);
        simd(V.ne);
        simd(V.bitselect);
        break;
      case 'less':
      case 'greater':
      case 'less_equal':
      case 'greater_equal':
      case 'equal':
      case 'not_equal':
        bin({ less: V.lt, greater: V.gt, less_equal: V.le, greater_equal: V.ge, equal: V.eq, not_equal: V.ne }[d.fn]);
        mask01();
        break;
      case 'where':
        get(a[1]!);
        get(a[2]!);
        get(a[0]!);
        get(lZero);
        simd(V.ne);
        simd(V.bitselect);
        break;
      case 'clamp':
        get(a[0]!);
        get(a[1]!);
        simd(V.max);
        get(a[2]!);
        simd(V.min);
        break;
      case 'interp':
        // (1 - a) x + a y, as the tfjs form computes it.
        get(lOne);
        get(a[2]!);
        simd(V.sub);
        get(a[0]!);
        simd(V.mul);
        get(a[2]!);
        get(a[1]!);
        simd(V.mul);
        simd(V.add);
        break;
      case 'float32':
      case 'copy':
        get(a[0]!);
        break;
      default:
        throw new Error(`simd: no SIMD form for '${d.fn}'`);
    }
    set(lDef[n]!);
  });
  spec.outs.forEach((o, j) => {
    get(pOut(j));
    get(lOff);
    op(I32_ADD);
    get(ref(o));
    simd(V.store);
    op(2, 0);
  });
  get(lOff);
  op(I32_CONST, ...sleb(16), I32_ADD);
  set(lOff);
  get(pN);
  op(I32_CONST, ...sleb(1), I32_SUB);
  op(0x22, ...uleb(pN)); // local.tee
  op(BR_IF, 0);
  op(END, END, END);

  const locals = vec([[...uleb(1), I32], [...uleb(nv), V128]]);
  const body = [...locals, ...code];
  // Types: run's, then one per imported function (float64 in, float64 out).
  const types = [
    [0x60, ...vec(Array.from({ length: nparams }, (_, i) => [i < pN + 1 ? I32 : F32])), ...vec([])],
    ...spec.calls.map((arity) => [0x60, ...vec(Array.from({ length: arity }, () => [F64])), ...vec([[F64]])]),
  ];
  const imports = [
    [...str('e'), ...str('m'), 0x02, 0x00, ...uleb(0)],
    ...spec.calls.map((_, i) => [...str('f'), ...str(String(i)), 0x00, ...uleb(1 + i)]),
  ];
  // Imported functions come first in the function index space.
  const runIndex = spec.calls.length;
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec([uleb(0)])),
    ...section(7, vec([[...str('run'), 0x00, ...uleb(runIndex)]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ];
  return Uint8Array.from(bytes);
}
