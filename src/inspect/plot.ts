/**
 * Loss curves as an SVG: one panel per task, one line per program (training
 * loss at its best rate, log scale), rendered by vega-lite + vega in Node
 * with no canvas and no browser.
 */
export interface CurveSeries {
  program: string;
  task: string;
  steps: number;
  curve: number[];
}

export function curveRows(series: CurveSeries[]): { program: string; task: string; step: number; loss: number }[] {
  const rows: { program: string; task: string; step: number; loss: number }[] = [];
  for (const s of series) {
    const n = s.curve.length;
    s.curve.forEach((loss, i) => {
      if (!(loss > 0) || !Number.isFinite(loss)) return;
      rows.push({ program: s.program, task: s.task, step: n <= 1 ? s.steps : 1 + Math.round((i * (s.steps - 1)) / (n - 1)), loss });
    });
  }
  return rows;
}

export async function lossCurvesSvg(series: CurveSeries[], title: string): Promise<string> {
  const vega = await import('vega');
  const vl = await import('vega-lite');
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values: curveRows(series) },
    facet: { field: 'task', type: 'nominal', title: null },
    columns: 4,
    spec: {
      width: 220,
      height: 160,
      mark: { type: 'line', strokeWidth: 1.5 },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'step' },
        y: { field: 'loss', type: 'quantitative', scale: { type: 'log' }, title: 'training loss' },
        color: { field: 'program', type: 'nominal', title: 'program' },
      },
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  };
  const compiled = vl.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
