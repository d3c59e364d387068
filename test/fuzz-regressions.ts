/**
 * Counterexamples found by `npm run test:fuzz`, replayed by `npm test` on
 * every run. Each names the property (the id passed to `assertProperty`), the
 * fast-check seed and the path of the shrunk counterexample. Never remove a
 * line: a fixed defect stays fixed.
 */
export interface Regression {
  readonly property: string;
  readonly seed: number;
  readonly path: string;
  /** What was wrong, for the reader. */
  readonly defect: string;
}

export const REGRESSIONS: readonly Regression[] = [
  {
    property: 'simplify keeps behaviour',
    seed: -162959032,
    path: '134:5:4:4:4:4:4:4:4:4:14:14:14:21:14:17:14:14:14:18:16:14:19:14:16:15:16:14:15:14:15:14:14:15:14:14:15:15:17:17:14:15:14:14:17:17:17:17:17:17:17:17:17:17:17:19:0:24:24:26:27:24:25:26:24:24:24:24:24:28:25:24:26:24:25:25:25:26:26:27:26:26:26:26:26:26:26:26:26:24:29:23:36:21:29:21:21:21:21:21:21:21:21:21:21',
    defect: 'global_norm(-0.001) folded to 0.001; the interpreter adds one term per parameter',
  },
];
