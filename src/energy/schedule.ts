/**
 * Latency and throughput from the schedule (ISAAC's execution model): each layer has its own arrays;
 * all arrays and row blocks of a layer copy work in parallel on one input vector pass, which takes
 * T = ceil(inputs.bits / dacBits) crossbar cycles, or longer when the shared ADCs or analog
 * accumulators cannot keep up (a design whose pass waits for its conversions adds their time);
 * layers form a pipeline with eDRAM buffers between them, so successive inferences overlap and the
 * slowest stage sets the throughput. At a given array budget, layers are replicated to balance the
 * pipeline, as ISAAC does ("for a balanced pipeline, we work our way back from the last layer";
 * NeuroSim V1.4 Chip.cpp replicates by the same rule): the replication below is the exact optimum of
 * that balance, the smallest stage time whose replicas fit the budget.
 */
import type { XbarConfig } from '../config/types.ts';
import { conversionsPerOutput } from '../crossbar/counts.ts';
import { layerGeometry } from '../crossbar/geometry.ts';
import type { ArchitectureCost } from './architectures.ts';
import { adcsPerIma } from './area.ts';
import type { CostLayer } from './layers.ts';

/** Time of one input vector pass through one copy of a crossbar layer (0 for a digital layer). */
export function vectorPassTime(l: CostLayer, chipArch: ArchitectureCost, chipCfg: XbarConfig): number {
  const cfg = l.cfg;
  if (!cfg) return 0;
  const g = layerGeometry(l.K, l.N, cfg);
  // The busiest array converts its columns' κ conversions per S·pol columns; ADCs are shared by the IMA's arrays.
  const columns = Math.min(cfg.array.cols, l.N * g.S * g.pol);
  const conversions = (columns * conversionsPerOutput(g, cfg)) / (g.S * g.pol);
  const adcsPerArray = adcsPerIma(chipArch, chipCfg) / chipArch.arraysPerIma;
  const convert = conversions / (adcsPerArray * chipArch.adcRate_Hz);
  // Accumulators shared by an array (Neural-PIM's NNS+A) take each of its outputs once per input cycle.
  const rate = cfg.dataflow === 'analog-sa' || cfg.dataflow === 'buffered' ? chipArch.accumulator?.rate : null;
  const accumulate = rate ? (g.T * columns) / (g.S * g.pol) / (rate.perArray * rate.ops_Hz) : 0;
  const input = Math.max(g.T * chipArch.cycle_s, accumulate);
  return chipArch.conversionOverlapped ? Math.max(input, convert) : input + convert;
}

/** One pipeline stage: the work of one layer per inference. */
export interface StageInput {
  /** Time of one vector pass on one copy (s); 0 for a digital layer. */
  passTime_s: number;
  /** Arrays one copy needs (section 5's `arrays`); 0 for a digital layer. */
  arrays: number;
  /** Vector passes per inference (Σ_v P_v of one group's matrix; every group has its own arrays in a copy). */
  passes: number;
  /**
   * Uses that run one after another (an RNN's time steps: step t reads step t − 1's state; the
   * longest such chain, src/ir/graph.ts sequentialUses), at least one pass each whatever the copies;
   * 1 for a layer whose vectors are all known at once.
   */
  steps: number;
}

/** The balanced schedule of a network at an array budget. */
export interface Schedule {
  /** Copies of each layer. */
  replication: number[];
  /** Time each layer spends on one inference (s). */
  stage_s: number[];
  /** Initiation interval: the slowest stage, 1 / throughput (s). */
  interval_s: number;
  /** One inference from first input to last output with every layer run after the previous one (s): an upper bound, as ISAAC also overlaps layers within an inference. */
  latency_s: number;
  /** Arrays allocated (replicas included). */
  arraysUsed: number;
}

/** Passes one step's vectors take on r copies: each step's share of the passes runs in parallel on them, the steps in turn. */
const stageTime = (s: StageInput, r: number): number => (s.arrays === 0 ? 0 : s.steps * Math.ceil(s.passes / s.steps / r - 1e-9) * s.passTime_s);

/** Copies needed for a stage to finish within `tau`, or Infinity when no number of copies does. */
function copiesFor(s: StageInput, tau: number): number {
  if (s.arrays === 0) return 0;
  const perStep = s.passes / s.steps;
  const perCopy = Math.floor(tau / s.steps / s.passTime_s + 1e-9);
  if (perCopy < 1) return Infinity;
  return Math.max(1, Math.min(Math.ceil(perStep - 1e-9), Math.ceil(perStep / perCopy - 1e-9)));
}

/** Balances the pipeline within `arrayBudget` arrays; null when one copy of every layer does not fit. */
export function balance(stages: readonly StageInput[], arrayBudget: number): Schedule | null {
  const used = (tau: number): number => stages.reduce((a, s) => a + copiesFor(s, tau) * s.arrays, 0);
  let hi = Math.max(0, ...stages.map((s) => stageTime(s, 1)));
  if (used(hi) > arrayBudget) return null;
  let lo = Math.max(0, ...stages.map((s) => (s.arrays === 0 ? 0 : s.steps * s.passTime_s)));
  if (used(lo) <= arrayBudget) hi = lo;
  else {
    for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
      const mid = (lo + hi) / 2;
      if (used(mid) <= arrayBudget) hi = mid;
      else lo = mid;
    }
  }
  const replication = stages.map((s) => Math.max(1, copiesFor(s, hi)));
  const stage_s = stages.map((s, i) => stageTime(s, replication[i]));
  return {
    replication,
    stage_s,
    interval_s: Math.max(0, ...stage_s),
    latency_s: stage_s.reduce((a, t) => a + t, 0),
    arraysUsed: stages.reduce((a, s, i) => a + replication[i] * s.arrays, 0),
  };
}
