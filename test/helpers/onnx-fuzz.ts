/**
 * Mutated ONNX files for the importer's fuzz test (issue 10, "keep it fixed"): byte flips,
 * truncations, spliced garbage and field mutations of the decoded ModelProto (op types, inputs,
 * attributes, initializer dims/types/bytes, graph inputs and outputs, opsets, node order) applied to
 * valid test models and the shipped models. Every case must end in an imported network that the CPU
 * executor runs, or in a one-line UsageError naming the file; anything else fails the property.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { resolveConfig } from '../../src/config/schema.ts';
import { UsageError } from '../../src/errors.ts';
import type { DecodedGraph, DecodedModel, DecodedNode } from '../../src/io/onnx/decode.ts';
import { SUPPORTED_OPS, importOnnx } from '../../src/io/onnx/import.ts';
import { proto } from '../../src/io/onnx/proto.ts';
import { sizeOf, type Network } from '../../src/ir/graph.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { allTestModels, convBnModel, poolingModel, torchFlattenModel } from './onnx-models.ts';
import { randomArray } from './random.ts';

export const FUZZ_LABEL = 'fuzz.onnx';

/** The valid models that mutations start from. */
export function fuzzSeeds(): { name: string; bytes: Uint8Array }[] {
  const shipped = ['mlp', 'lenet5'].map((m) => ({ name: `models/${m}.onnx`, bytes: new Uint8Array(readFileSync(new URL(`../../models/${m}.onnx`, import.meta.url))) }));
  const built = [
    ...allTestModels(),
    torchFlattenModel({ opset: 9 }),
    poolingModel({ opset: 9 }),
    poolingModel({ opset: 21 }),
    convBnModel({ storage: 'typed' }),
    convBnModel({ storage: 'float64' }),
  ].map((m) => ({ name: m.name, bytes: m.bytes }));
  return [...built, ...shipped];
}

/** One mutation of the decoded model; indices are taken modulo the lengths they index. */
type FieldMutation =
  | { f: 'opType'; node: number; op: string }
  | { f: 'nodeInput'; node: number; slot: number; to: number | '' | 'fresh' }
  | { f: 'dropInput'; node: number }
  | { f: 'attr'; node: number; attr: number; v: { i?: number; f?: number; ints?: number[]; type?: number; s?: string } }
  | { f: 'addAttr'; node: number; name: string; v: number | number[] | string }
  | { f: 'dropAttr'; node: number; attr: number }
  | { f: 'initDims'; init: number; dims: number[] }
  | { f: 'initType'; init: number; type: number }
  | { f: 'initRaw'; init: number; cut: number }
  | { f: 'initName'; init: number; to: number }
  | { f: 'inputDims'; dims: (number | string)[] }
  | { f: 'inputType'; type: number }
  | { f: 'graphIO'; which: 'addInput' | 'dropInput' | 'addOutput' | 'dropOutput' | 'renameOutput'; to: number }
  | { f: 'opset'; version: number; domain: string }
  | { f: 'nodeOrder'; a: number; b: number; how: 'swap' | 'delete' | 'duplicate' }
  | { f: 'nodeDomain'; node: number; domain: string };

const ATTR_NAMES = ['axis', 'axes', 'perm', 'pads', 'kernel_shape', 'strides', 'dilations', 'group', 'transA', 'transB', 'auto_pad', 'ceil_mode', 'to', 'alpha', 'epsilon', 'allowzero', 'start', 'end', 'training_mode', 'value'];
const small = fc.integer({ min: -3, max: 12 });
const anyInt = fc.oneof(small, fc.integer(), fc.constantFrom(0, 1, 2 ** 31 - 1, -(2 ** 31), 2 ** 26));
const anyFloat = fc.oneof(fc.double(), fc.constantFrom(0, 1, -1, NaN, Infinity, -Infinity, 1e-45, 3.4e38));

const fieldMutation: fc.Arbitrary<FieldMutation> = fc.oneof(
  fc.record({ f: fc.constant('opType' as const), node: fc.nat(), op: fc.constantFrom(...SUPPORTED_OPS, 'Unique', 'Foo', '') }),
  fc.record({ f: fc.constant('nodeInput' as const), node: fc.nat(), slot: fc.nat(6), to: fc.oneof(fc.nat(), fc.constantFrom('' as const, 'fresh' as const)) }),
  fc.record({ f: fc.constant('dropInput' as const), node: fc.nat() }),
  fc.record({
    f: fc.constant('attr' as const), node: fc.nat(), attr: fc.nat(),
    v: fc.record({ i: anyInt, f: anyFloat, ints: fc.array(small, { maxLength: 6 }), type: fc.nat(14), s: fc.constantFrom('SAME_UPPER', 'VALID', 'SAME', '', 'NOTSET') }, { requiredKeys: [] }),
  }),
  fc.record({ f: fc.constant('addAttr' as const), node: fc.nat(), name: fc.constantFrom(...ATTR_NAMES), v: fc.oneof(small, fc.array(small, { maxLength: 6 }), fc.constantFrom('SAME_LOWER', 'x')) }),
  fc.record({ f: fc.constant('dropAttr' as const), node: fc.nat(), attr: fc.nat() }),
  fc.record({ f: fc.constant('initDims' as const), init: fc.nat(), dims: fc.array(fc.oneof(fc.integer({ min: -1, max: 9 }), fc.constantFrom(2 ** 40, 1 << 20)), { maxLength: 5 }) }),
  fc.record({ f: fc.constant('initType' as const), init: fc.nat(), type: fc.nat(17) }),
  fc.record({ f: fc.constant('initRaw' as const), init: fc.nat(), cut: fc.integer({ min: -9, max: 9 }) }),
  fc.record({ f: fc.constant('initName' as const), init: fc.nat(), to: fc.nat() }),
  fc.record({ f: fc.constant('inputDims' as const), dims: fc.array(fc.oneof(fc.integer({ min: -1, max: 12 }), fc.constantFrom('N', 'C', '')), { maxLength: 5 }) }),
  fc.record({ f: fc.constant('inputType' as const), type: fc.nat(16) }),
  fc.record({ f: fc.constant('graphIO' as const), which: fc.constantFrom('addInput' as const, 'dropInput' as const, 'addOutput' as const, 'dropOutput' as const, 'renameOutput' as const), to: fc.nat() }),
  fc.record({ f: fc.constant('opset' as const), version: fc.integer({ min: 0, max: 30 }), domain: fc.constantFrom('', 'ai.onnx', 'com.microsoft') }),
  fc.record({ f: fc.constant('nodeOrder' as const), a: fc.nat(), b: fc.nat(), how: fc.constantFrom('swap' as const, 'delete' as const, 'duplicate' as const) }),
  fc.record({ f: fc.constant('nodeDomain' as const), node: fc.nat(), domain: fc.constantFrom('ai.onnx', 'com.microsoft', '') }),
);

/** A mutation of a seed model's bytes. */
export type FuzzCase =
  | { seed: number; kind: 'flip'; flips: [number, number][] }
  | { seed: number; kind: 'truncate'; at: number }
  | { seed: number; kind: 'splice'; at: number; bytes: Uint8Array }
  | { seed: number; kind: 'fields'; mutations: FieldMutation[] };

/** Cases over `seedCount` seed models. */
export function fuzzCase(seedCount: number): fc.Arbitrary<FuzzCase> {
  const seed = fc.nat(seedCount - 1);
  // Field mutations weigh most: byte-level damage mostly stops in the protobuf decoder.
  return fc.oneof(
    { weight: 2, arbitrary: fc.record({ seed, kind: fc.constant('flip' as const), flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }) }) },
    { weight: 1, arbitrary: fc.record({ seed, kind: fc.constant('truncate' as const), at: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ seed, kind: fc.constant('splice' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }) },
    { weight: 4, arbitrary: fc.record({ seed, kind: fc.constant('fields' as const), mutations: fc.array(fieldMutation, { minLength: 1, maxLength: 4 }) }) },
  );
}

const pick = <T>(xs: T[] | null | undefined, i: number): T | undefined => (xs && xs.length > 0 ? xs[i % xs.length] : undefined);

function valueNames(g: DecodedGraph): string[] {
  return [...g.input.map((v) => v.name), ...g.initializer.map((t) => t.name), ...g.node.flatMap((n) => n.output)];
}

function applyField(m: DecodedModel, mu: FieldMutation): void {
  const g = m.graph;
  const nodes = g.node;
  const inits = g.initializer;
  switch (mu.f) {
    case 'opType': { const n = pick(nodes, mu.node); if (n) n.opType = mu.op; break; }
    case 'nodeInput': {
      const n = pick(nodes, mu.node);
      if (!n) break;
      const to = mu.to === '' ? '' : mu.to === 'fresh' ? 'fresh_value' : pick(valueNames(g), mu.to) ?? '';
      if (n.input.length === 0) n.input.push(to);
      else n.input[mu.slot % (n.input.length + 1)] = to;
      break;
    }
    case 'dropInput': { const n = pick(nodes, mu.node); if (n) n.input.pop(); break; }
    case 'attr': {
      const a = pick(pick(nodes, mu.node)?.attribute, mu.attr);
      if (!a) break;
      if (mu.v.i !== undefined) a.i = mu.v.i;
      if (mu.v.f !== undefined) a.f = mu.v.f;
      if (mu.v.ints !== undefined) a.ints = mu.v.ints;
      if (mu.v.type !== undefined) a.type = mu.v.type;
      if (mu.v.s !== undefined) a.s = new TextEncoder().encode(mu.v.s);
      break;
    }
    case 'addAttr': {
      const n = pick(nodes, mu.node);
      if (!n) break;
      const v = mu.v;
      n.attribute.push(proto.AttributeProto.create(
        typeof v === 'number' ? { name: mu.name, type: 2, i: v } : typeof v === 'string' ? { name: mu.name, type: 3, s: new TextEncoder().encode(v) } : { name: mu.name, type: 7, ints: v },
      ));
      break;
    }
    case 'dropAttr': { const n = pick(nodes, mu.node); if (n && n.attribute.length > 0) n.attribute.splice(mu.attr % n.attribute.length, 1); break; }
    case 'initDims': { const t = pick(inits, mu.init); if (t) t.dims = mu.dims; break; }
    case 'initType': { const t = pick(inits, mu.init); if (t) t.dataType = mu.type; break; }
    case 'initRaw': {
      const t = pick(inits, mu.init);
      if (!t) break;
      const r = t.rawData ?? new Uint8Array();
      t.rawData = mu.cut < 0 ? r.subarray(0, Math.max(0, r.length + mu.cut)) : Uint8Array.from([...r, ...new Array<number>(mu.cut).fill(0x7f)]);
      break;
    }
    case 'initName': { const t = pick(inits, mu.init); if (t) t.name = pick(valueNames(g), mu.to) ?? ''; break; }
    case 'inputDims': {
      const v = g.input[0];
      if (v?.type?.tensorType) v.type.tensorType.shape = { dim: mu.dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) };
      break;
    }
    case 'inputType': { const v = g.input[0]; if (v?.type?.tensorType) v.type.tensorType.elemType = mu.type; break; }
    case 'graphIO': {
      const name = pick(valueNames(g), mu.to) ?? 'x';
      if (mu.which === 'addInput') g.input.push(proto.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'N' }, { dimValue: 3 }] } } } }));
      else if (mu.which === 'dropInput') g.input.splice(mu.to % Math.max(1, g.input.length), 1);
      else if (mu.which === 'addOutput') g.output.push(proto.ValueInfoProto.create({ name }));
      else if (mu.which === 'dropOutput') g.output.splice(mu.to % Math.max(1, g.output.length), 1);
      else if (g.output[0]) g.output[0].name = name;
      break;
    }
    case 'opset': { m.opsetImport = [proto.OperatorSetIdProto.create({ domain: mu.domain, version: mu.version })]; break; }
    case 'nodeOrder': {
      if (nodes.length === 0) break;
      const a = mu.a % nodes.length;
      const b = mu.b % nodes.length;
      if (mu.how === 'swap') [nodes[a], nodes[b]] = [nodes[b], nodes[a]];
      else if (mu.how === 'delete') nodes.splice(a, 1);
      else nodes.splice(b, 0, proto.NodeProto.decode(proto.NodeProto.encode(nodes[a]).finish()) as unknown as DecodedNode);
      break;
    }
    case 'nodeDomain': { const n = pick(nodes, mu.node); if (n) n.domain = mu.domain; break; }
  }
}

/** The bytes of a case. */
export function mutate(seedBytes: Uint8Array, c: FuzzCase): Uint8Array {
  const n = seedBytes.length;
  switch (c.kind) {
    case 'flip': {
      const out = seedBytes.slice();
      for (const [at, x] of c.flips) out[at % n] ^= x;
      return out;
    }
    case 'truncate': return seedBytes.slice(0, c.at % n);
    case 'splice': {
      const at = c.at % (n + 1);
      return Uint8Array.from([...seedBytes.subarray(0, at), ...c.bytes, ...seedBytes.subarray(at)]);
    }
    case 'fields': {
      const m = proto.ModelProto.decode(seedBytes) as unknown as DecodedModel;
      for (const mu of c.mutations) applyField(m, mu);
      return new Uint8Array(proto.ModelProto.encode(m).finish());
    }
  }
}

/** Rough multiply-adds of one sample: networks above a bound are imported but not run. */
function workPerSample(net: Network): number {
  let w = 0;
  for (const op of net.ops) {
    if (op.kind === 'linear') w += op.K * op.N;
    else if (op.kind === 'conv') w += sizeOf(op.outShape) * (op.cin / op.group) * op.kh * op.kw;
    else w += sizeOf(net.shapes.get(op.output) ?? [1]) * 9;
  }
  return w;
}

export type FuzzOutcome = 'ran' | 'imported' | 'refused';

/**
 * Imports the bytes; a network is run for 2 samples on the CPU executor (`--digital`) when small.
 * Resolves with the outcome; throws (failing the property) on any other exception or a bad message.
 */
export async function checkBytes(bytes: Uint8Array): Promise<FuzzOutcome> {
  let net: Network;
  try {
    net = importOnnx(bytes, FUZZ_LABEL);
  } catch (e) {
    if (!(e instanceof UsageError)) throw new Error(`import threw ${e instanceof Error ? e.stack : String(e)}`);
    if (e.message.includes('\n') || !e.message.startsWith(`${FUZZ_LABEL}: `)) throw new Error(`bad UsageError message: ${JSON.stringify(e.message)}`);
    return 'refused';
  }
  if (workPerSample(net) > 2 ** 24) return 'imported';
  const runner = openNetwork({ kind: 'cpu', reason: 'fuzz' }, net, resolveConfig({ preset: 'ideal' }), true);
  try {
    const B = 2;
    const y = await runner.forward(null, randomArray(B * sizeOf(net.input.shape), 3), B, 0);
    const want = B * sizeOf(net.shapes.get(net.output)!);
    if (y.output.length !== want) throw new Error(`the imported network returned ${y.output.length} values for ${want} outputs`);
  } finally {
    runner.destroy();
  }
  return 'ran';
}
