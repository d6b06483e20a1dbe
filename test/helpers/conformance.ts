/**
 * The ONNX backend node tests (`../shared/onnx-conformance`, README.md and MANIFEST.tsv there) run
 * through xbarsim: each test's model is imported with its parameter inputs (MANIFEST param_inputs)
 * and its weights (WEIGHT_INPUTS) as constants, run on an executor in `--digital` mode, and compared
 * with ONNX's tolerances (rtol 1e-3, atol 1e-7, shapes exact). Shared by the CPU and GPU suites.
 *
 * Each test runs as a whole-tensor sample (batch 1) and, when every data input has the same first
 * dim, also with that dim as the batch; every import that succeeds must give the right answer, and at
 * least one must succeed. test/conformance/skips.json names the tests not run (with a reason the
 * manifest confirms) and those that must be refused (with the message's pattern).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { onnx } from 'onnx-proto';
import { UsageError } from '../../src/errors.ts';
import { decodeTensor } from '../../src/io/onnx/decode.ts';
import type { DecodedModel } from '../../src/io/onnx/decode.ts';
import { MIN_OPSET, SUPPORTED_OPS, importOnnx } from '../../src/io/onnx/import.ts';
import { proto } from '../../src/io/onnx/proto.ts';
import type { Network } from '../../src/ir/graph.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Where the node tests live (XBARSIM_ONNX_CONFORMANCE overrides). */
export const CONFORMANCE_DIR = process.env.XBARSIM_ONNX_CONFORMANCE ?? join(ROOT, '..', 'shared', 'onnx-conformance');

/** Inputs xbarsim takes as constants because real models have them so: weights, biases, statistics, indices. */
export const WEIGHT_INPUTS: Readonly<Record<string, readonly number[]>> = {
  Conv: [1, 2],
  ConvTranspose: [1, 2],
  Gemm: [1, 2],
  BatchNormalization: [1, 2, 3, 4],
  InstanceNormalization: [1, 2],
  LayerNormalization: [1, 2],
  Gather: [1],
};

/** Data input dtypes xbarsim runs (integers and booleans as exact f32 values). */
export const RUN_DTYPES = ['float32', 'int32', 'int64', 'bool'];

export interface ManifestRow {
  name: string;
  op: string;
  expanded: boolean;
  opset: number;
  dtypes: string[];
  /** Graph input positions that carry parameters (shapes, axes, pads, scales, …). */
  params: number[];
  notes: string;
}

/** MANIFEST.tsv as rows. */
export function readManifest(): ManifestRow[] {
  const file = join(CONFORMANCE_DIR, 'MANIFEST.tsv');
  if (!existsSync(file)) throw new Error(`ONNX conformance tests not found at ${CONFORMANCE_DIR} (set XBARSIM_ONNX_CONFORMANCE)`);
  const [head, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const col = Object.fromEntries(head.split('\t').map((c, i) => [c, i]));
  return lines.map((l) => {
    const f = l.split('\t');
    return {
      name: f[col.name], op: f[col.op], expanded: f[col.expanded] === 'True', opset: Number(f[col.opset]),
      dtypes: f[col.dtypes].split(';').filter((d) => d),
      params: f[col.param_inputs].split(';').filter((p) => p).map((p) => Number(/^input_(\d+)=/.exec(p)![1])),
      notes: f[col.notes],
    };
  });
}

/** test/conformance/skips.json: tests not run and tests that must be refused. */
export interface SkipList {
  /** Test → why it is not run: "dtype …", "training mode …" or "opset …". */
  skip: Record<string, string>;
  /** Test → why xbarsim refuses it, and a pattern its one-line error must match. */
  refuse: Record<string, { reason: string; error: string }>;
}

export function readSkips(): SkipList {
  return JSON.parse(readFileSync(join(ROOT, 'test', 'conformance', 'skips.json'), 'utf8')) as SkipList;
}

/** Why a skip reason is true of a row, or an error saying it is not. */
export function skipIsJustified(row: ManifestRow, reason: string): string | null {
  if (reason.startsWith('dtype')) return row.dtypes.some((d) => !RUN_DTYPES.includes(d)) ? null : `${row.name}: listed for dtype but has only ${row.dtypes.join(', ')}`;
  if (reason.startsWith('training mode')) return /training_mode=1/.test(row.notes) ? null : `${row.name}: listed for training mode, which the manifest does not note`;
  if (reason.startsWith('opset')) return row.opset < MIN_OPSET ? null : `${row.name}: listed for its opset, which is ${row.opset}`;
  return `${row.name}: skip reason ${JSON.stringify(reason)} is not one of dtype, training mode, opset`;
}

interface Tensor {
  name: string;
  dims: number[];
  dtype: string;
  values: Float32Array;
  proto: onnx.TensorProto;
}

const DTYPES: Record<number, string> = { 1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64' };

function readTensor(path: string): Tensor {
  const t = proto.TensorProto.decode(readFileSync(path));
  const d = decodeTensor(t, path);
  const values = d.kind === 'float' ? d.data : Float32Array.from(d.data);
  return { name: t.name, dims: d.dims, dtype: DTYPES[t.dataType] ?? `type ${t.dataType}`, values, proto: t };
}

/** One node test on disk. */
export interface NodeTest {
  row: ManifestRow;
  model: DecodedModel;
  inputs: Tensor[];
  outputs: Tensor[];
  /** Op types in the model's graph. */
  ops: string[];
}

export function loadNodeTest(row: ManifestRow): NodeTest {
  const dir = join(CONFORMANCE_DIR, 'node', row.name);
  const model = proto.ModelProto.decode(readFileSync(join(dir, 'model.onnx'))) as unknown as DecodedModel;
  const data = join(dir, 'test_data_set_0');
  const inputs = model.graph.input.map((_, i) => readTensor(join(data, `input_${i}.pb`)));
  const outputs = model.graph.output.map((_, i) => readTensor(join(data, `output_${i}.pb`)));
  return { row, model, inputs, outputs, ops: [...new Set(model.graph.node.map((n) => n.opType))] };
}

/** Runs a network on B samples of its packed input; returns its packed output. */
export type Runner = (net: Network, x: Float32Array, B: number) => Promise<Float32Array>;

/**
 * passed; failed; skipped (skips.json); refused (as skips.json expects); not claimed (an op xbarsim
 * does not import); no kernel (the backend lacks an implementation of an IR op the test needs).
 */
export type Outcome = 'passed' | 'failed' | 'skipped' | 'refused' | 'not claimed' | 'no kernel';

/** The IR ops of a network the backend cannot run, as a message; null when it runs them all. */
export type Capability = (net: Network) => string | null;

export interface CaseResult {
  name: string;
  op: string;
  outcome: Outcome;
  /** Why: the skip or refusal reason, the failure, or the ops not claimed. */
  detail: string;
  /** The variants that imported and passed ("sample", "batched", "weight …"). */
  ran: string[];
}

/** The model with the given graph inputs turned into initializers. */
function withConstants(t: NodeTest, constants: Set<number>): Uint8Array {
  const m = proto.ModelProto.decode(proto.ModelProto.encode(t.model).finish()) as unknown as DecodedModel;
  const g = m.graph;
  g.input.forEach((v, i) => {
    if (!constants.has(i)) return;
    const c = proto.TensorProto.decode(proto.TensorProto.encode(t.inputs[i].proto).finish());
    c.name = v.name;
    g.initializer.push(c);
  });
  return proto.ModelProto.encode(m).finish();
}

/** Packs data inputs sample by sample in the network's input order. */
function packInputs(net: Network, t: NodeTest, B: number): Float32Array {
  const byName = new Map(t.model.graph.input.map((v, i) => [v.name, t.inputs[i]]));
  const per = net.inputs.map((v) => byName.get(v.name)!.values);
  const sample = per.reduce((s, x) => s + x.length / B, 0);
  const x = new Float32Array(B * sample);
  let o = 0;
  for (let s = 0; s < B; s++) for (const p of per) {
    const n = p.length / B;
    x.set(p.subarray(s * n, (s + 1) * n), o);
    o += n;
  }
  return x;
}

/** |a − e| ≤ atol + rtol·|e| elementwise (NaN equals NaN, infinities must match). */
export function allClose(a: ArrayLike<number>, e: ArrayLike<number>, rtol = 1e-3, atol = 1e-7): string | null {
  if (a.length !== e.length) return `${a.length} values, expected ${e.length}`;
  for (let i = 0; i < e.length; i++) {
    const [x, y] = [a[i], e[i]];
    if (Number.isNaN(y) ? Number.isNaN(x) : x === y || Math.abs(x - y) <= atol + rtol * Math.abs(y)) continue;
    return `element ${i}: ${x}, expected ${y}`;
  }
  return null;
}

const dtypeClass = (d: string): string => (d === 'bool' ? 'bool' : d.startsWith('float') ? 'float' : 'int');

/** Runs one imported variant and compares every output; null when right. */
async function check(net: Network, t: NodeTest, B: number, batched: boolean, run: Runner): Promise<string | null> {
  const y = await run(net, packInputs(net, t, B), B);
  const size = y.length / B;
  for (const [j, o] of net.outputs.entries()) {
    const want = t.outputs[j];
    const shape = batched ? [B, ...o.shape] : o.shape;
    if (shape.join() !== want.dims.join()) return `output ${j}: shape [${shape.join(', ')}], expected [${want.dims.join(', ')}]`;
    if (dtypeClass(o.dtype) !== dtypeClass(want.dtype)) return `output ${j}: dtype ${o.dtype}, expected ${want.dtype}`;
    const n = o.shape.reduce((a, b) => a * b, 1);
    const got = new Float32Array(B * n);
    for (let s = 0; s < B; s++) got.set(y.subarray(s * size + o.offset, s * size + o.offset + n), s * n);
    const err = allClose(got, want.values);
    if (err) return `output ${j}: ${err}`;
  }
  return null;
}

/** The ways a test is imported: whole tensors as one sample, dim 0 as the batch, and for MatMul a constant weight. */
function variants(t: NodeTest): { label: string; batched: boolean; constants: Set<number> }[] {
  const base = new Set([...t.row.params, ...(WEIGHT_INPUTS[t.row.op] ?? [])]);
  const data = t.inputs.map((_, i) => i).filter((i) => !base.has(i));
  const dim0 = new Set(data.map((i) => t.inputs[i].dims[0]));
  const canBatch = data.every((i) => t.inputs[i].dims.length > 0) && dim0.size === 1 && [...dim0][0]! > 0;
  const out = [{ label: 'sample', batched: false, constants: base }];
  if (canBatch) out.push({ label: 'batched', batched: true, constants: base });
  if (t.row.op === 'MatMul') {
    const w = new Set([...base, 1]);
    out.push({ label: 'weight, sample', batched: false, constants: w });
    if (t.inputs[0].dims.length > 0 && t.inputs[0].dims[0] > 0) out.push({ label: 'weight, batched', batched: true, constants: w });
  }
  return out;
}

/** Runs one node test in every variant. */
export async function runNodeTest(row: ManifestRow, skips: SkipList, run: Runner, capable: Capability = () => null): Promise<CaseResult> {
  const r = (outcome: Outcome, detail: string, ran: string[] = []): CaseResult => ({ name: row.name, op: row.op, outcome, detail, ran });
  if (skips.skip[row.name]) return r('skipped', skips.skip[row.name]);
  const t = loadNodeTest(row);
  const missing = t.ops.filter((o) => !SUPPORTED_OPS.includes(o));
  if (missing.length > 0) return r('not claimed', `needs ${missing.join(', ')}`);
  const refusal = skips.refuse[row.name];
  const ran: string[] = [];
  const refused: string[] = [];
  const noKernel: string[] = [];
  for (const v of variants(t)) {
    let net: Network;
    try {
      net = importOnnx(withConstants(t, v.constants), row.name, { batched: v.batched });
    } catch (e) {
      if (!(e instanceof UsageError) || e.message.includes('\n')) return r('failed', `${v.label}: import threw ${String(e)}`);
      refused.push(`${v.label}: ${e.message}`);
      continue;
    }
    if (refusal) return r('failed', `${v.label}: imported, but skips.json expects a refusal (${refusal.reason})`);
    const missingKernel = capable(net);
    if (missingKernel) {
      noKernel.push(missingKernel);
      continue;
    }
    const B = v.batched ? t.inputs[t.inputs.findIndex((_, i) => !v.constants.has(i))].dims[0] : 1;
    let err: string | null;
    try {
      err = await check(net, t, B, v.batched, run);
    } catch (e) {
      err = `threw ${e instanceof Error ? e.message : String(e)}`;
    }
    if (err) return r('failed', `${v.label}: ${err}`);
    ran.push(v.label);
  }
  if (refusal) {
    const bad = refused.find((m) => !new RegExp(refusal.error).test(m));
    return bad ? r('failed', `refused with ${JSON.stringify(bad)}, expected /${refusal.error}/`) : r('refused', refusal.reason);
  }
  if (ran.length === 0 && noKernel.length > 0) return r('no kernel', [...new Set(noKernel)].join('; '));
  if (ran.length === 0) return r('failed', `every import was refused: ${refused.join(' | ')}`);
  return r('passed', refused.length > 0 ? `refused: ${refused.join(' | ')}` : '', ran);
}

/** Per-op lines: passed, skipped and refused (with reasons), failed, not claimed. */
export function summarize(results: CaseResult[]): string {
  const ops = [...new Set(results.map((x) => x.op))].sort();
  const lines = ops.map((op) => {
    const of = results.filter((x) => x.op === op);
    const count = (o: Outcome): number => of.filter((x) => x.outcome === o).length;
    const reasons = (o: Outcome): string => [...new Set(of.filter((x) => x.outcome === o).map((x) => x.detail))].join('; ');
    const parts = [`${count('passed')}/${of.length} passed`];
    if (count('skipped')) parts.push(`${count('skipped')} skipped (${reasons('skipped')})`);
    if (count('refused')) parts.push(`${count('refused')} refused (${reasons('refused')})`);
    if (count('not claimed')) parts.push(`${count('not claimed')} not claimed (${reasons('not claimed')})`);
    if (count('no kernel')) parts.push(`${count('no kernel')} without a kernel on this backend (${reasons('no kernel')})`);
    if (count('failed')) parts.push(`${count('failed')} FAILED`);
    return `${op}: ${parts.join(', ')}`;
  });
  const total = (o: Outcome): number => results.filter((x) => x.outcome === o).length;
  lines.push(`total: ${results.length} tests, ${total('passed')} passed, ${total('skipped')} skipped, ${total('refused')} refused, ${total('not claimed')} not claimed, ${total('no kernel')} without a kernel, ${total('failed')} failed`);
  return lines.join('\n');
}

/** The nine whole networks of light/ (ONNX's model zoo with constant weights). */
export const LIGHT_MODELS = ['bvlc_alexnet', 'densenet121', 'inception_v1', 'inception_v2', 'resnet50', 'shufflenet', 'squeezenet', 'vgg19', 'zfnet512'];

/**
 * Imports and runs one light model on its input (np.arange(n)/n in the input's shape, batch 1) and
 * compares with its expected output at the tolerances of real/test_<m>/data.json; null when right.
 */
export async function runLightModel(model: string, run: Runner, capable: Capability = () => null): Promise<string | null> {
  const net = importOnnx(readFileSync(join(CONFORMANCE_DIR, 'light', `light_${model}.onnx`)), model);
  const missing = capable(net);
  if (missing) return `cannot run on this backend yet: ${missing}`;
  const tol = JSON.parse(readFileSync(join(CONFORMANCE_DIR, 'real', `test_${model}`, 'data.json'), 'utf8')) as { rtol: number; atol: number };
  const want = readTensor(join(CONFORMANCE_DIR, 'light', `light_${model}_output_0.pb`));
  const n = net.input.shape.reduce((a, b) => a * b, 1);
  const y = await run(net, Float32Array.from({ length: n }, (_, i) => i / n), 1);
  const shape = [1, ...net.outputs[0].shape];
  if (shape.join() !== want.dims.join()) return `shape [${shape.join(', ')}], expected [${want.dims.join(', ')}]`;
  return allClose(y, want.values, tol.rtol, tol.atol);
}
