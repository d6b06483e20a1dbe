// ONNX export of trained Sequential models (opset 13, standard ops), and the reverse: rebuilding a
// Sequential from an exported file, so the written bytes can be re-evaluated and compared with the
// in-memory model.
import type { onnx } from 'onnx-proto';
import { Prng } from '../../src/io/datasets/prng.ts';
import { Attrs } from '../../src/io/onnx/attrs.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import type { BuildNode, BuildTensor } from '../../src/io/onnx/build.ts';
import { decodeModel, decodeTensor } from '../../src/io/onnx/decode.ts';
import { int64ToNumber } from '../../src/io/onnx/proto.ts';
import { Conv2d, Dense, Flatten, Pool2d, Relu } from './layers.ts';
import type { Layer, Param } from './layers.ts';
import { Sequential } from './model.ts';

/** The ONNX names of the graph's input and output. */
export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'logits';
const OPSET = 13;

/** Encodes `model` as ONNX: input `input [N, ...inputShape]`, output `logits [N, classes]` (no softmax). */
export function exportOnnx(model: Sequential, docName = model.name): Uint8Array {
  const nodes: BuildNode[] = [];
  const initializers: BuildTensor[] = [];
  let current = INPUT_NAME;
  const counts = new Map<string, number>();
  model.layers.forEach((layer, i) => {
    const last = i === model.layers.length - 1;
    const base = layer.params.length ? layer.params[0].name.replace(/\.weight$/, '') : nextName(counts, layer.kind);
    const out = last ? OUTPUT_NAME : base;
    const tensors = (ps: readonly Param[]): string[] => {
      for (const p of ps) initializers.push({ name: p.name, dims: p.shape, data: p.data });
      return ps.map((p) => p.name);
    };
    if (layer instanceof Dense) {
      nodes.push({ op: 'Gemm', name: base, inputs: [current, ...tensors(layer.params)], outputs: [out], attrs: { transB: 1 } });
    } else if (layer instanceof Conv2d) {
      const { k, pad } = layer.geometry;
      nodes.push({
        op: 'Conv',
        name: base,
        inputs: [current, ...tensors(layer.params)],
        outputs: [out],
        attrs: { kernel_shape: [k, k], pads: [pad, pad, pad, pad], strides: [1, 1], dilations: [1, 1], group: 1 },
      });
    } else if (layer instanceof Pool2d) {
      const op = layer.kind === 'maxpool' ? 'MaxPool' : 'AveragePool';
      nodes.push({ op, name: base, inputs: [current], outputs: [out], attrs: { kernel_shape: [layer.k, layer.k], strides: [layer.k, layer.k] } });
    } else if (layer instanceof Relu) {
      nodes.push({ op: 'Relu', name: base, inputs: [current], outputs: [out] });
    } else if (layer instanceof Flatten) {
      nodes.push({ op: 'Flatten', name: base, inputs: [current], outputs: [out], attrs: { axis: 1 } });
    } else {
      throw new Error(`export: unsupported layer ${layer.kind}`);
    }
    current = out;
  });
  return buildOnnxModel({
    opset: OPSET,
    graphName: docName,
    producer: 'xbarsim scripts/train.ts',
    inputs: [{ name: INPUT_NAME, dims: ['N', ...model.inputShape] }],
    outputs: [{ name: OUTPUT_NAME, dims: ['N', ...model.outputShape] }],
    initializers,
    nodes,
  });
}

function nextName(counts: Map<string, number>, kind: string): string {
  const n = (counts.get(kind) ?? 0) + 1;
  counts.set(kind, n);
  return `${kind}${n}`;
}

/**
 * Rebuilds a Sequential from an ONNX chain of exactly the ops exportOnnx writes (Gemm transB=1,
 * stride-1 square Conv with symmetric pads, non-overlapping MaxPool/AveragePool, Relu, Flatten).
 * Anything else throws: this is a round-trip check, not a general importer.
 */
export function importOnnx(bytes: Uint8Array, label = 'model.onnx'): Sequential {
  const model = decodeModel(bytes, label);
  const graph = model.graph as onnx.IGraphProto;
  const inits = new Map<string, { dims: number[]; data: Float32Array }>();
  for (const t of graph.initializer ?? []) {
    const d = decodeTensor(t, label);
    if (d.kind !== 'float') throw new Error(`${label}: initializer ${t.name} is not float`);
    inits.set(t.name ?? '', d);
  }
  const initNames = new Set(inits.keys());
  const input = (graph.input ?? []).find((v) => !initNames.has(v.name ?? ''));
  if (!input) throw new Error(`${label}: no graph input`);
  const dims = (input.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : int64ToNumber(d.dimValue)));
  const inputShape = dims.slice(1).map(Number);
  if (inputShape.some((d) => !Number.isInteger(d) || d < 1)) throw new Error(`${label}: input dims [${dims}] are not [N, fixed...]`);

  const rng = new Prng(0); // weights are overwritten; the init draws are irrelevant
  const layers: Layer[] = [];
  let shape: number[] = inputShape;
  let current = input.name ?? '';
  const weight = (name: string | undefined, want: readonly number[], p: Param): void => {
    const t = inits.get(name ?? '');
    if (!t || t.dims.join(',') !== want.join(',')) throw new Error(`${label}: ${name} should be [${want}], is [${t?.dims ?? 'missing'}]`);
    p.data.set(t.data);
  };
  for (const node of graph.node ?? []) {
    const where = `${label}: node ${node.name} (${node.opType})`;
    const ins = node.input ?? [];
    if (ins[0] !== current) throw new Error(`${where}: not a chain (input ${ins[0]}, expected ${current})`);
    const a = new Attrs(node, where);
    switch (node.opType) {
      case 'Gemm': {
        if (a.int('transA', 0) !== 0 || a.int('transB', 0) !== 1 || a.float('alpha', 1) !== 1 || a.float('beta', 1) !== 1) {
          throw new Error(`${where}: only transA=0, transB=1, alpha=beta=1`);
        }
        const w = inits.get(ins[1] ?? '');
        if (!w || w.dims.length !== 2 || shape.length !== 1 || w.dims[1] !== shape[0]) throw new Error(`${where}: weight does not fit [${shape}]`);
        const layer = new Dense(w.dims[1], w.dims[0], rng, node.name ?? 'fc');
        weight(ins[1], [w.dims[0], w.dims[1]], layer.weight);
        weight(ins[2], [w.dims[0]], layer.bias);
        layers.push(layer);
        break;
      }
      case 'Conv': {
        const w = inits.get(ins[1] ?? '');
        if (!w || w.dims.length !== 4 || shape.length !== 3 || w.dims[1] !== shape[0] || w.dims[2] !== w.dims[3]) {
          throw new Error(`${where}: weight does not fit [${shape}]`);
        }
        const k = w.dims[2];
        const pads = a.ints('pads', [0, 0, 0, 0]);
        const ok = (xs: number[] | null, v: number): boolean => !xs || xs.every((x) => x === v);
        if (!ok(a.ints('strides', null), 1) || !ok(a.ints('dilations', null), 1) || a.int('group', 1) !== 1 || !ok(pads, pads[0])) {
          throw new Error(`${where}: only stride 1, dilation 1, group 1, symmetric pads`);
        }
        if (a.str('auto_pad', 'NOTSET') !== 'NOTSET' || !ok(a.ints('kernel_shape', null), k)) throw new Error(`${where}: unsupported kernel/auto_pad`);
        const layer = new Conv2d(shape[0], shape[1], shape[2], w.dims[0], k, pads[0], rng, node.name ?? 'conv');
        weight(ins[1], w.dims, layer.weight);
        weight(ins[2], [w.dims[0]], layer.bias);
        layers.push(layer);
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        const ks = a.ints('kernel_shape', []);
        const st = a.ints('strides', [1, 1]);
        const pads = a.ints('pads', [0, 0, 0, 0]);
        if (shape.length !== 3 || ks.length !== 2 || ks[0] !== ks[1] || st[0] !== ks[0] || st[1] !== ks[0] || pads.some((p) => p !== 0)) {
          throw new Error(`${where}: only non-overlapping square pools without padding`);
        }
        if (a.int('ceil_mode', 0) !== 0) throw new Error(`${where}: only ceil_mode 0`);
        layers.push(new Pool2d(node.opType === 'MaxPool' ? 'maxpool' : 'avgpool', shape[0], shape[1], shape[2], ks[0]));
        break;
      }
      case 'Relu':
        layers.push(new Relu(shape));
        break;
      case 'Flatten':
        if (a.int('axis', 1) !== 1) throw new Error(`${where}: only axis 1`);
        layers.push(new Flatten(shape));
        break;
      default:
        throw new Error(`${where}: unsupported op`);
    }
    shape = [...layers[layers.length - 1].outShape];
    current = (node.output ?? [])[0] ?? '';
  }
  const outName = (graph.output ?? [])[0]?.name;
  if (outName !== current) throw new Error(`${label}: graph output ${outName} is not the chain's end ${current}`);
  return new Sequential(graph.name ?? label, inputShape, layers);
}
