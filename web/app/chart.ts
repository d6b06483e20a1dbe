// The live charts: accuracy against the varied value, one line per preset with its 95% CI band,
// and accuracy against energy per inference (the cost model's), drawn as SVG by Vega. One view per
// run (the axis type depends on the varied path); each new result replaces the view's data.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { VaryScale } from '../../src/sweep/spec.ts';
import type { ChartRow } from './sweep.ts';

/** The vega-lite mark name of the points layer: its SVG group has the class `points_marks`. */
export const POINTS_MARK = 'points';

export interface ChartAxis {
  path: string;
  scale: VaryScale;
  /** The varied values in plan order (the x domain of a list of names or booleans). */
  values: readonly (number | string | boolean)[];
}

const ACCURACY = { type: 'quantitative' as const, title: 'accuracy', scale: { domain: [0, 1] } };

/** What both charts share: size, a resizable layout, and the named data set each update replaces. */
const FRAME = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  width: 560,
  height: 300,
  background: 'transparent',
  // Without resize the layout is fixed at the first (empty) render and a legend that appears later is clipped.
  autosize: { type: 'pad' as const, resize: true },
  config: { legend: { symbolOpacity: 1 } },
  data: { name: 'summary' },
};

/** The points layer (named for the SVG count `update` returns) with its tooltip fields. */
function pointsLayer(tooltip: { field: string; type: 'quantitative' | 'nominal'; title?: string; format?: string }[]) {
  return {
    name: POINTS_MARK,
    // Hollow, so a preset hidden under another's identical point still shows its outline.
    mark: { type: 'point' as const, filled: false, size: 70, strokeWidth: 2 },
    encoding: {
      y: { ...ACCURACY, field: 'mean' },
      // Shapes tell presets apart where their lines coincide (e.g. both at full accuracy).
      shape: { field: 'preset', type: 'nominal' as const, title: 'preset' },
      tooltip,
    },
  };
}

function spec(axis: ChartAxis): TopLevelSpec {
  const numeric = axis.values.every((v) => typeof v === 'number');
  const integers = numeric && axis.values.every((v) => Number.isInteger(v));
  const x = numeric
    ? {
        field: 'x',
        type: 'quantitative' as const,
        title: axis.path,
        scale: axis.scale === 'log' ? { type: 'log' as const } : { zero: false },
        // Bits, rows and seeds have no fractional values: no 4.2-bit ticks.
        axis: integers ? { tickMinStep: 1, format: 'd' } : {},
      }
    : { field: 'x', type: 'ordinal' as const, title: axis.path, sort: axis.values.map(String) };
  const y = ACCURACY;
  return {
    ...FRAME,
    // Booleans and names are drawn as text so the ordinal axis sorts them as given.
    transform: numeric ? [] : [{ calculate: 'toString(datum.x)', as: 'x' }],
    encoding: { x, color: { field: 'preset', type: 'nominal', title: 'preset' } },
    layer: [
      {
        transform: [{ filter: 'isValid(datum.lo) && isValid(datum.hi)' }],
        // lo/hi are inside [0, 1] already (src/sweep/stats.ts); clip keeps the band inside the plot.
        mark: { type: 'area', opacity: 0.18, clip: true },
        encoding: { y: { ...y, field: 'lo' }, y2: { field: 'hi' } },
      },
      { mark: { type: 'line' }, encoding: { y: { ...y, field: 'mean' } } },
      pointsLayer([
        { field: 'preset', type: 'nominal' },
        { field: 'x', type: numeric ? 'quantitative' : 'nominal', title: axis.path },
        { field: 'mean', type: 'quantitative', title: 'accuracy', format: '.4f' },
        { field: 'chips', type: 'quantitative' },
      ]),
    ],
  };
}

/** Accuracy against energy per inference (log axis), one point per grid point that has a cost: the designer's Pareto view. */
function energySpec(): TopLevelSpec {
  const y = ACCURACY;
  return {
    ...FRAME,
    transform: [{ filter: 'isValid(datum.energyPerInference) && datum.energyPerInference > 0' }],
    encoding: {
      x: { field: 'energyPerInference', type: 'quantitative', title: 'energy per inference (J, cost model)', scale: { type: 'log' }, axis: { format: '.2~e' } },
      color: { field: 'preset', type: 'nominal', title: 'preset' },
    },
    layer: [
      { transform: [{ filter: 'isValid(datum.lo) && isValid(datum.hi)' }], mark: { type: 'rule', strokeWidth: 2, opacity: 0.5 }, encoding: { y: { ...y, field: 'lo' }, y2: { field: 'hi' } } },
      pointsLayer([
        { field: 'preset', type: 'nominal' },
        { field: 'x', type: 'nominal', title: 'value' },
        { field: 'energyPerInference', type: 'quantitative', title: 'energy per inference (J)', format: '.3~e' },
        { field: 'mean', type: 'quantitative', title: 'accuracy', format: '.4f' },
      ]),
    ],
  };
}

export class LiveChart {
  private readonly view: vega.View;

  /** A chart of accuracy against the varied value (`axis`), or against energy per inference ('energy'). */
  constructor(
    private readonly container: HTMLElement,
    axis: ChartAxis | 'energy',
  ) {
    container.replaceChildren();
    this.view = new vega.View(vega.parse(compile(axis === 'energy' ? energySpec() : spec(axis)).spec), { renderer: 'svg', container, hover: true });
  }

  /**
   * Replaces the data and redraws. The container's data-points is the number of rows handed to
   * Vega; resolves with the number of point symbols actually in the SVG, which should match.
   */
  async update(rows: readonly ChartRow[]): Promise<number> {
    // Vega keeps and annotates the tuples it is given: hand it copies.
    this.view.data('summary', rows.map((r) => ({ ...r })));
    await this.view.runAsync();
    this.container.dataset.points = String(rows.length);
    return this.container.querySelectorAll(`g.${POINTS_MARK}_marks > path`).length;
  }

  destroy(): void {
    this.view.finalize();
  }
}
