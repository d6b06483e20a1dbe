/**
 * What the cost model reads: a network's crossbar layers by shape, each with its config and what it
 * did (or would do) per inference. Built from a real run's counts (eval, sweep) or from shapes alone
 * (counts-only: `xbarsim energy`).
 */
import type { XbarConfig } from '../config/types.ts';
import { resolveLayerConfig } from '../config/schema.ts';
import { addCounts, layerCounts, zeroCounts, type EventCounts } from '../crossbar/counts.ts';
import { layerGeometry } from '../crossbar/geometry.ts';
import { UsageError } from '../errors.ts';

/** A Linear/Conv layer by shape only: one or more identical [K, N] matrices (one per conv group). */
export interface ShapeLayer {
  name: string;
  /** Position among the network's Linear/Conv layers, from 0 (the `layers` override index). */
  layerIndex: number;
  K: number;
  N: number;
  groups: number;
  /** Input vectors per sample seen by each group's matrix: 1 (linear) or OH·OW (conv). */
  vectorsPerSample: number;
  /** True when every input of the layer is provably ≥ 0, so every vector runs one pass (P_v = 1). */
  inputNonNegative: boolean;
  /** Uses per inference that run one after another (an RNN's recurrent weights: its time steps); default 1. */
  steps?: number;
}

/** A network by shape: its crossbar layers in execution order. */
export interface ShapeNetwork {
  name: string;
  /** Where the shapes come from (file, paper table). */
  source: string;
  /** Per-sample input shape [C, H, W] (or [K] for an MLP). */
  inputShape: readonly number[];
  layers: ShapeLayer[];
}

/** One crossbar layer as the cost model reads it. */
export interface CostLayer {
  name: string;
  /** The config it runs with; null when kept digital (f32, no crossbar). */
  cfg: XbarConfig | null;
  K: number;
  N: number;
  groups: number;
  vectorsPerSample: number;
  /** Σ_v P_v per inference of one group's matrix (section 5's passes; vectorsPerSample ≤ passes ≤ 2·vectorsPerSample). */
  passes: number;
  /** Uses per inference that run one after another (a tied layer's chained uses, an RNN's steps; 1 otherwise): no copy count runs them in fewer passes. */
  steps: number;
  /** Section 5 counts per inference, all groups summed (`arrays`: once per layer). */
  counts: EventCounts;
}

/** Multiply-accumulates of a layer per inference (the network's own MACs, DESIGN.md section 10). */
export function layerMacs(l: Pick<CostLayer, 'K' | 'N' | 'groups' | 'vectorsPerSample'>): number {
  return l.K * l.N * l.groups * l.vectorsPerSample;
}

/**
 * Section 5's counts of a layer from its shape alone (counts-only). P_v: a layer whose input is
 * provably non-negative (after ReLU, sigmoid, softmax, pooling or concatenation of such values...)
 * runs one pass per vector, exactly as a full run does; any other layer is charged two passes per
 * vector, an upper bound that is exact whenever every input vector has a negative entry (a
 * mean-subtracted image through a first convolution with padding smaller than its kernel).
 */
export function countsOnlyLayer(s: ShapeLayer, cfg: XbarConfig | null): CostLayer {
  const passes = s.vectorsPerSample * (s.inputNonNegative ? 1 : 2);
  let counts = zeroCounts();
  if (cfg) {
    const g = layerGeometry(s.K, s.N, cfg);
    const one = layerCounts(g, cfg, passes);
    for (let i = 0; i < s.groups; i++) counts = addCounts(counts, one);
  }
  return { name: s.name, cfg, K: s.K, N: s.N, groups: s.groups, vectorsPerSample: s.vectorsPerSample, passes, steps: s.steps ?? 1, counts };
}

/**
 * The config of each layer of a shape network: `cfg.layers` overrides by layer name or index, as
 * planMatrices (src/nn/matrices.ts) applies them to an imported network; `digital` keeps a layer in
 * f32 (null). An override key that names no layer is a UsageError.
 */
export function shapeLayerConfigs(layers: readonly ShapeLayer[], cfg: XbarConfig): (XbarConfig | null)[] {
  for (const key of Object.keys(cfg.layers)) {
    if (!layers.some((l) => l.name === key || String(l.layerIndex) === key)) {
      throw new UsageError(`layers.${key}: no Linear/Conv layer has this name or index (layers: ${layers.map((l) => `${l.layerIndex}:${l.name}`).join(', ')})`);
    }
  }
  return layers.map((l) => {
    const override = cfg.layers[l.name] ?? cfg.layers[String(l.layerIndex)];
    if (override?.digital === true) return null;
    return override ? resolveLayerConfig(cfg, override) : cfg;
  });
}

/** Counts-only cost layers of a shape network under `cfg`. */
export function countsOnlyNetwork(net: ShapeNetwork, cfg: XbarConfig): CostLayer[] {
  const cfgs = shapeLayerConfigs(net.layers, cfg);
  return net.layers.map((l, i) => countsOnlyLayer(l, cfgs[i]));
}
