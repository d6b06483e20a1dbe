/**
 * Glue between a network and the cost model (src/energy): an imported network's matrix layers as
 * the cost model's layers, either by shape alone (counts-only, `xbarsim energy --model`) or with the
 * counts of a real run (`eval`, `sweep`).
 */
import type { XbarConfig } from '../config/types.ts';
import { layerCounts, type EventCounts } from '../crossbar/counts.ts';
import { layerGeometry } from '../crossbar/geometry.ts';
import { architectureFor } from '../energy/architectures.ts';
import { countsOnlyLayer, type CostLayer, type ShapeLayer, type ShapeNetwork } from '../energy/layers.ts';
import { equalAreaBudget, estimate, type PresetEstimate } from '../energy/model.ts';
import { UsageError } from '../errors.ts';
import { nonNegativeValues } from '../energy/signs.ts';
import type { Network } from '../ir/graph.ts';
import type { CountsReport } from './evaluate.ts';
import { planMatrices, type MatrixLayer } from './matrices.ts';

function shapeOf(l: MatrixLayer, nonNegative: ReadonlyMap<string, boolean>): ShapeLayer {
  const p = l.parts[0];
  return { name: l.op.name, layerIndex: l.op.layerIndex, K: p.K, N: p.N, groups: l.parts.length, vectorsPerSample: l.vectorsPerSample, inputNonNegative: l.ops.every((op) => nonNegative.get(op.inputs[0]) ?? false), steps: l.steps };
}

/** An imported network by shape: its Linear/Conv layers, with which inputs are provably ≥ 0. */
export function shapeNetworkOf(net: Network, name: string, inputNonNegative: boolean, cfg: XbarConfig): ShapeNetwork {
  const sign = nonNegativeValues(net, inputNonNegative);
  return { name, source: name, inputShape: net.input.shape, layers: planMatrices(net, cfg, false).map((l) => shapeOf(l, sign)) };
}

/**
 * Counts-only cost layers of an imported network: section 5's counts from shapes, with P_v = 1 for
 * layers whose input is provably ≥ 0 and 2 otherwise (src/energy/signs.ts), per-layer configs and
 * `digital` overrides as a real run applies them (planMatrices).
 */
export function countsOnlyLayers(net: Network, cfg: XbarConfig, inputNonNegative: boolean): CostLayer[] {
  const sign = nonNegativeValues(net, inputNonNegative);
  return planMatrices(net, cfg, false).map((l) => countsOnlyLayer(shapeOf(l, sign), l.cfg));
}

/**
 * Cost layers from a real run: its counts per inference (over `counts.vectors` samples), and each
 * layer's passes per inference recovered from its cell reads (every pass reads the same cells).
 */
export function runCostLayers(net: Network, cfg: XbarConfig, digital: boolean, counts: CountsReport): CostLayer[] {
  const n = Math.max(1, counts.vectors);
  return planMatrices(net, cfg, digital).map((l, i) => {
    const c = counts.layers[i];
    const p = l.parts[0];
    const perInference = Object.fromEntries(Object.entries(c).filter(([k]) => k !== 'name').map(([k, v]) => [k, k === 'arrays' ? v : (v as number) / n])) as unknown as EventCounts;
    let passes = l.vectorsPerSample;
    if (l.cfg) {
      const onePass = layerCounts(layerGeometry(p.K, p.N, l.cfg), l.cfg, 1).cellReads * l.parts.length;
      if (onePass > 0) passes = perInference.cellReads / onePass;
    }
    return { name: l.op.name, cfg: l.cfg, K: p.K, N: p.N, groups: l.parts.length, vectorsPerSample: l.vectorsPerSample, passes, steps: l.steps, counts: perInference };
  });
}

/** A run's cost per inference, or why it has none. */
export type RunCost = { estimate: PresetEstimate; note: null } | { estimate: null; note: string };

/**
 * The cost of a real run (eval, sweep) per inference from its counts: the config's cost table at the
 * smallest whole number of ISAAC chips' area that holds the network (src/energy/model.ts). A run in
 * f32 (--digital) or a config the tables cannot cost (`ideal`: no physical ADC) has none, with the reason.
 */
export function runCost(net: Network, cfg: XbarConfig, digital: boolean, counts: CountsReport, label: string): RunCost {
  if (digital) return { estimate: null, note: 'digital f32 run: no crossbar to cost' };
  try {
    architectureFor(cfg, label);
    const layers = runCostLayers(net, cfg, false, counts);
    return { estimate: estimate(label, layers, cfg, equalAreaBudget([{ layers, cfg }])), note: null };
  } catch (e) {
    if (e instanceof UsageError) return { estimate: null, note: e.message };
    throw e;
  }
}

/** The cost fields a sweep line and summary carry (DESIGN.md section 10 names). */
export type CostFields = Pick<
  PresetEstimate,
  'energyPerInference_J' | 'latency_s' | 'throughput_inferencesPerSecond' | 'area_mm2' | 'topsPerWatt' | 'topsPerMm2'
>;

/** The section-10 headline fields of a run's cost, or null when it has none. */
export function costFields(c: RunCost): CostFields | null {
  if (!c.estimate) return null;
  const { energyPerInference_J, latency_s, throughput_inferencesPerSecond, area_mm2, topsPerWatt, topsPerMm2 } = c.estimate;
  return { energyPerInference_J, latency_s, throughput_inferencesPerSecond, area_mm2, topsPerWatt, topsPerMm2 };
}
