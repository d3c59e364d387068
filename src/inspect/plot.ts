/**
 * Loss curves as an SVG chart (vega-lite, rendered headless: no canvas, no
 * browser): one panel per task, one line per program. Shared by
 * `optevo show --program ID --plot FILE.svg` and any other command that plots
 * TaskResult curves.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';

export interface CurveSeries {
  /** Legend entry, e.g. `#42 (found)` or `seed adamw`. */
  label: string;
  task: string;
  /** Training loss, sampled evenly over training. */
  curve: readonly number[];
}

export interface PlotOptions {
  title?: string;
  /** Panel size in pixels. */
  width?: number;
  height?: number;
  columns?: number;
}

/** The vega-lite specification (exposed for tests and for callers that want JSON). */
export function lossCurvesSpec(series: readonly CurveSeries[], opts: PlotOptions = {}): vl.TopLevelSpec {
  const values: { task: string; series: string; progress: number; loss: number }[] = [];
  for (const s of series) {
    const n = s.curve.length;
    s.curve.forEach((loss, i) => {
      if (Number.isFinite(loss)) values.push({ task: s.task, series: s.label, progress: n > 1 ? i / (n - 1) : 0, loss });
    });
  }
  const positive = values.every((v) => v.loss > 0);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title ? { title: opts.title } : {}),
    data: { values },
    facet: { field: 'task', type: 'nominal', title: null },
    columns: opts.columns ?? 3,
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: opts.width ?? 240,
      height: opts.height ?? 160,
      mark: { type: 'line', strokeWidth: 1.5 },
      encoding: {
        x: { field: 'progress', type: 'quantitative', title: 'fraction of training', axis: { format: '.0%' } },
        y: { field: 'loss', type: 'quantitative', title: 'training loss', scale: { type: positive ? 'log' : 'linear' } },
        color: { field: 'series', type: 'nominal', title: null, sort: series.map((s) => s.label).filter((l, i, a) => a.indexOf(l) === i) },
      },
    },
  } as vl.TopLevelSpec;
}

/** Renders the curves to SVG text. */
export async function renderLossCurvesSvg(series: readonly CurveSeries[], opts: PlotOptions = {}): Promise<string> {
  const spec = vl.compile(lossCurvesSpec(series, opts)).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
