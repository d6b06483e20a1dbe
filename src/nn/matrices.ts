import type { XbarConfig } from '../config/types.ts';
import { addCounts, layerCounts, zeroCounts, type EventCounts } from '../crossbar/counts.ts';
import type { LayerGeometry } from '../crossbar/geometry.ts';
import { resolveLayerConfig } from '../config/schema.ts';
import { UsageError } from '../errors.ts';
import { matrixLayerOf, sameShape, sequentialUses, sizeOf, type ConvOp, type LinearOp, type Network } from '../ir/graph.ts';

/** One crossbar matrix: a linear layer, or one group of a convolution (DESIGN.md section 6). */
export interface MatrixPart {
  /** Row-major [K, N] (f64 only for vmm's float64 weights). */
  W: Float32Array | Float64Array;
  K: number;
  N: number;
  group: number;
  /**
   * Position among all crossbar matrices of the network, in op order then group order: the `layer`
   * field of every noise counter of this matrix (src/random/philox.ts).
   */
  matrixIndex: number;
}

/** A linear or conv layer with the config it runs with (null: kept digital, f32). */
export interface MatrixLayer {
  /** Its first use. */
  op: LinearOp | ConvOp;
  /** Every op that runs it, in network order: one, or a tied layer's uses (LinearOp.tie). */
  ops: readonly (LinearOp | ConvOp)[];
  cfg: XbarConfig | null;
  parts: MatrixPart[];
  /** Input vectors per sample of one use: a linear layer's rows (1, or tokens/pixels), or OH·OW (conv, per group). */
  vectorsPerUse: number;
  /** Input vectors per sample over all uses (section 5's vectors of each matrix). */
  vectorsPerSample: number;
  /** Uses that must run one after another, each reading what the previous produced (sequentialUses; 1 untied). */
  steps: number;
}

/** Per-read noise keys a tied layer's uses apart in the counter's layer word (src/random/philox.ts), so both stay below this. */
const MAX_TIED = 0x10000;

/** The network's matrix ops grouped into layers (matrixLayerOf), each tied layer's uses checked to be one matrix. */
function layerOps(net: Network): (LinearOp | ConvOp)[][] {
  const groups: (LinearOp | ConvOp)[][] = [];
  for (const [op, i] of matrixLayerOf(net.ops)) (groups[i] ??= []).push(op);
  for (const uses of groups) {
    const [a, ...rest] = uses;
    for (const b of rest) {
      const same = a.name === b.name && a.weight === b.weight && a.bias === b.bias && sameShape(a, b);
      if (!same) throw new Error(`network: the uses of tied layer ${a.name} differ (name, weight, bias or shape)`);
    }
    if (uses.length >= MAX_TIED) throw new UsageError(`layer ${a.name} is used ${uses.length} times; a tied layer may be used at most ${MAX_TIED - 1} times`);
  }
  return groups;
}

/** Splits a conv weight [cout, cin/g, kh, kw] into per-group matrices with rows (cin, kh, kw). */
function convParts(op: ConvOp): { W: Float32Array | Float64Array; K: number; N: number }[] {
  const Ng = op.cout / op.group;
  const Kg = (op.cin / op.group) * op.kh * op.kw;
  const parts = [];
  for (let g = 0; g < op.group; g++) {
    const W = new Float32Array(Kg * Ng);
    for (let n = 0; n < Ng; n++) for (let k = 0; k < Kg; k++) W[k * Ng + n] = op.weight[(g * Ng + n) * Kg + k];
    parts.push({ W, K: Kg, N: Ng });
  }
  return parts;
}

/**
 * The network's matrix layers with their configs: `cfg.layers` overrides apply by ONNX node name or
 * by layer index (position among Linear/Conv layers, from 0); `digital` keeps a layer in f32, and
 * `allDigital` (--digital) keeps every layer in f32. An override key that names no layer is an error.
 */
export function planMatrices(net: Network, cfg: XbarConfig, allDigital: boolean): MatrixLayer[] {
  const layers = layerOps(net);
  const ops = layers.map((uses) => uses[0]);
  for (const key of Object.keys(cfg.layers)) {
    if (!ops.some((op) => op.name === key || String(op.layerIndex) === key)) {
      const names = ops.map((op) => `${op.layerIndex}:${op.name}`).join(', ');
      throw new UsageError(`layers.${key}: no Linear/Conv layer has this name or index (layers: ${names})`);
    }
  }
  let matrixIndex = 0;
  const chains = sequentialUses(net.ops);
  const planned = layers.map((uses, i): MatrixLayer => {
    const op = uses[0];
    const override = cfg.layers[op.name] ?? cfg.layers[String(op.layerIndex)];
    const digital = allDigital || override?.digital === true;
    const layerCfg = digital ? null : override ? resolveLayerConfig(cfg, override) : cfg;
    const raw = op.kind === 'linear' ? [{ W: op.weight, K: op.K, N: op.N }] : convParts(op);
    const parts = raw.map((p, group) => ({ ...p, group, matrixIndex: digital ? -1 : matrixIndex++ }));
    const vectorsPerUse = op.kind === 'linear' ? sizeOf(op.inShape) / op.K : op.outShape[1] * op.outShape[2];
    return { op, ops: uses, cfg: layerCfg, parts, vectorsPerUse, vectorsPerSample: vectorsPerUse * uses.length, steps: chains.get(i) ?? 1 };
  });
  if (matrixIndex > MAX_TIED) throw new UsageError(`the network has ${matrixIndex} crossbar matrices; at most ${MAX_TIED} are supported`);
  return planned;
}

/** Section 5's counts of a matrix layer over `samples` samples: each group's matrix sees vectorsPerSample vectors per sample. */
export function matrixLayerCounts(l: MatrixLayer, geoms: readonly (LayerGeometry | null)[], samples: number, negVectors: readonly number[]): EventCounts {
  if (!l.cfg) return zeroCounts();
  let c = zeroCounts();
  geoms.forEach((g, i) => {
    if (g) c = addCounts(c, layerCounts(g, l.cfg!, samples * l.vectorsPerSample + (negVectors[i] ?? 0)));
  });
  return c;
}
