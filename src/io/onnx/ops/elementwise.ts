/**
 * Elementwise ops → the IR's `unary`, `binary` and `where`: activations and math functions of one
 * input, broadcast arithmetic and comparisons of two, the variadic Sum/Mean/Max/Min as chains of
 * binary ops, and Where. A constant Add/Sub after a matrix op folds into its bias.
 */
import type { BinaryFn, BinaryOp, UnaryFn, UnaryOp } from '../../../ir/graph.ts';
import { broadcastShapes, finiteData, floatsOf, uniformAlong } from '../consts.ts';
import type { Const } from '../consts.ts';
import { foldBinary, foldUnary, foldWhere } from '../fold.ts';
import { sampleStep } from '../probe.ts';
import { NodeError } from '../node.ts';
import type { BatchMerge, DType, NodeContext, OpImporter, OpTable, Value } from '../node.ts';
import { quote } from '../proto.ts';
import { channelVector, reshapeTo } from './matrix.ts';

/** A binary operand: an activation or a constant. */
export type Operand = { v: Value; c?: undefined } | { c: Const; v?: undefined };

const COMPARISONS: readonly BinaryFn[] = ['equal', 'less', 'greater'];

function unary(fn: UnaryFn): (n: NodeContext) => void {
  return (n) => {
    // Elementwise: the batch may sit anywhere, merged with another dim or not.
    const x = n.valueAnyBatch(0, 'X', true);
    let alpha = 0;
    let beta: number | undefined;
    let min = -Infinity;
    let max = Infinity;
    if (fn === 'leaky-relu') alpha = n.a.float('alpha', 0.01);
    if (fn === 'elu' || fn === 'celu') alpha = n.a.float('alpha', 1);
    if (fn === 'celu' && alpha === 0) throw new NodeError('attribute "alpha" is 0; Celu divides by it (allowed: any non-zero number)');
    if (fn === 'selu') {
      // ONNX's defaults, the float32 values of SELU's constants (Klambauer et al. 2017).
      alpha = n.a.float('alpha', 1.67326319217681884765625);
      beta = n.a.float('gamma', 1.05070102214813232421875);
    }
    if (fn === 'hard-sigmoid') {
      alpha = n.a.float('alpha', 0.2);
      beta = n.a.float('beta', 0.5);
    }
    if (fn === 'clip') ({ min, max } = clipBounds(n));
    if (fn === 'thresholded-relu') alpha = n.a.float('alpha', 1);
    if (fn === 'shrink') {
      alpha = n.a.float('lambd', 0.5);
      beta = n.a.float('bias', 0);
    }
    const op: UnaryOp = { kind: 'unary', name: n.name, inputs: [x.name], output: n.out, fn, alpha, min, max, ...(beta === undefined ? {} : { beta }) };
    const dtype: DType = fn === 'not' || fn === 'bool' || fn === 'is-nan' || fn === 'is-inf' ? 'bool' : fn === 'neg' || fn === 'abs' || fn === 'clip' || fn === 'sign' ? x.dtype : 'float';
    n.imp.emit(op, [...x.shape], dtype, x.batchAt, x.merged);
  };
}

/** Clip's bounds: attributes before opset 11, optional inputs 1 and 2 from then on. */
function clipBounds(n: NodeContext): { min: number; max: number } {
  if (n.opset < 11) return { min: n.a.float('min', -Infinity), max: n.a.float('max', Infinity) };
  const lo = n.optConst(1, 'min');
  const hi = n.optConst(2, 'max');
  return { min: lo ? n.scalar(lo, 'min') : -Infinity, max: hi ? n.scalar(hi, 'max') : Infinity };
}

function gelu(n: NodeContext): void {
  const approx = n.a.str('approximate', 'none');
  if (approx !== 'none' && approx !== 'tanh') throw new NodeError(`attribute "approximate" is ${quote(approx)}; allowed: "none", "tanh"`);
  unary(approx === 'tanh' ? 'gelu-tanh' : 'gelu')(n);
}

/**
 * PRelu(X, slope) = X < 0 ? slope·X : X, slope broadcast to X (one value, or one per channel as PyTorch
 * exports nn.PReLU(C): [C, 1, 1]). Lowered to relu(X) − slope·relu(−X), exact in f32 (one of the two
 * terms is ±0), and made of ops adapter training differentiates through.
 */
function prelu(n: NodeContext): void {
  const x = n.valueAnyBatch(0, 'X');
  const slope = operandAt(n, 1, 'slope');
  const part = (s: string): string => n.imp.fresh(`${n.out}/${s}`);
  const pos = emitUnary(n, 'relu', x, part('pos'), `${n.name}/pos`);
  const negPart = emitUnary(n, 'relu', emitUnary(n, 'neg', x, part('neg'), `${n.name}/neg`), part('negpart'), `${n.name}/negpart`);
  const scaled = part('scaled');
  emitBinary(n, 'mul', { v: negPart }, slope, scaled, `${n.name}/scaled`);
  emitBinary(n, 'sub', { v: pos }, { v: n.imp.valueOf(scaled)! }, n.out);
}

/**
 * Emits a node as `steps` IR ops in a row: step k writes a fresh `out/k+1` named `name/k+1`, the last
 * the node's own output under its own name.
 */
export function emitChain(n: NodeContext, steps: number, emit: (k: number, out: string, name: string) => void): void {
  for (let k = 0; k < steps; k++) {
    const last = k === steps - 1;
    emit(k, last ? n.out : n.imp.fresh(`${n.out}/${k + 1}`), last ? n.name : `${n.name}/${k + 1}`);
  }
}

/** Emits unary `fn` (one without parameters) of `v` into `out`, where `v`'s batch sits; returns the new value. */
export function emitUnary(n: NodeContext, fn: UnaryFn, v: Value, out: string, name = n.name, dtype: DType = 'float'): Value {
  n.imp.emit({ kind: 'unary', name, inputs: [v.name], output: out, fn, alpha: 0, min: -Infinity, max: Infinity }, [...v.shape], dtype, v.batchAt, v.merged);
  return n.imp.valueOf(out)!;
}

function foldClip(n: NodeContext): Const | null {
  const x = n.constIn(0, 'input 0');
  const { min, max } = clipBounds(n);
  if (x.kind !== 'float') return null;
  return { kind: 'float', dims: x.dims, data: x.data.map((v) => Math.min(Math.max(v, min), max)) };
}

function math(fn: UnaryFn): OpImporter {
  return { activation: unary(fn), fold: (n) => foldUnary(n.op, n.constIn(0, 'input 0')) };
}

/** dtype of a binary result: comparisons give booleans, Pow the base's type, the rest float if either is. */
function resultType(fn: BinaryFn, a: DType, b: DType): DType {
  if (COMPARISONS.includes(fn)) return 'bool';
  if (fn === 'pow') return a === 'float' ? 'float' : 'int';
  return a === 'float' || b === 'float' ? 'float' : a;
}

/** Integer results that f32 arithmetic can leave fractional (int Div, int base ** float exponent) are truncated toward zero, as ONNX does. */
function needsTrunc(fn: BinaryFn, a: DType, b: DType): boolean {
  return (fn === 'div' && a !== 'float' && b !== 'float') || (fn === 'pow' && a !== 'float' && b === 'float');
}

/**
 * Emits `out = lhs fn rhs`. Two activations must have the same per-sample rank in a batched import
 * (broadcasting between ranks would align the batch with another axis); a constant follows
 * `NodeContext.operand`'s rule.
 */
export function emitBinary(n: NodeContext, fn: BinaryFn, lhs: Operand, rhs: Operand, out: string, name = n.name, truncated = false): void {
  const types = [lhs, rhs].map((o): DType => (o.v ? o.v.dtype : o.c.kind === 'float' ? 'float' : 'int'));
  if (!truncated && needsTrunc(fn, types[0], types[1])) {
    const raw = n.imp.fresh(`${out}/exact`);
    emitBinary(n, fn, lhs, rhs, raw, name, true);
    const v = n.imp.valueOf(raw)!;
    n.imp.emit({ kind: 'unary', name, inputs: [raw], output: out, fn: 'trunc', alpha: 0, min: -Infinity, max: Infinity }, [...v.shape], 'int');
    return;
  }
  if (lhs.v && rhs.v) {
    const [a, b] = [lhs.v, rhs.v];
    if ((a.batchAt ?? 0) !== (b.batchAt ?? 0)) throw new NodeError(`operands have the batch dimension at axes ${a.batchAt ?? 0} and ${b.batchAt ?? 0}`);
    if (a.merged !== b.merged) throw new NodeError('one operand has the batch merged with another dim and the other does not');
    if (n.imp.batched && a.shape.length !== b.shape.length) {
      throw new NodeError(`operands have per-sample shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] of different rank; broadcasting would mix the batch dimension with another`);
    }
    const outShape = broadcastShapes(a.shape, b.shape);
    if (!outShape) throw new NodeError(`shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] do not broadcast`);
    if (a.merged && (a.shape[a.batchAt ?? 0] !== b.shape[a.batchAt ?? 0] || outShape.length !== a.shape.length)) throw new NodeError('operands with a merged batch must share the merged dim');
    const op: BinaryOp = { kind: 'binary', name, inputs: [a.name, b.name], output: out, fn, b: null, constFirst: false, aShape: a.shape, bShape: b.shape, outShape };
    n.imp.emit(op, outShape, resultType(fn, a.dtype, b.dtype), a.batchAt, a.merged);
    return;
  }
  const constFirst = !!lhs.c;
  const x = (lhs.v ?? rhs.v)!;
  const c = perSampleOperand(n, (lhs.c ?? rhs.c)!, x);
  const bShape = c.dims;
  const outShape = broadcastShapes(x.shape, bShape);
  if (x.merged && outShape && outShape.length !== x.shape.length) throw new NodeError(`constant operand has dims [${c.dims.join(', ')}], more than the activation's rank ${x.shape.length}`);
  if (!outShape) throw new NodeError(`shapes [${x.shape.join(', ')}] and [${bShape.join(', ')}] do not broadcast`);
  const commutes = fn === 'add' || fn === 'mul' || fn === 'max' || fn === 'min' || fn === 'equal';
  const op: BinaryOp = {
    kind: 'binary', name, inputs: [x.name], output: out, fn,
    b: { dims: bShape, data: finiteData(Float32Array.from(floatsOf(c, 'constant operand'))) }, constFirst: constFirst && !commutes,
    aShape: x.shape, bShape, outShape,
  };
  n.imp.emit(op, outShape, resultType(fn, x.dtype, c.kind === 'float' ? 'float' : 'int'), x.batchAt, x.merged);
}

/**
 * A constant operand as the per-sample constant next to activation `x` (the per-sample shape, the
 * batch at ONNX axis batchAt): right-aligned, the dim over the batch must be 1 and is dropped, or be
 * the declared batch with every sample alike (a static export's constant: one sample is kept). Over
 * a merged batch (batch·k), a 1 broadcasts, and a static export's declared·k with every sample's k
 * alike is one sample's k.
 */
function perSampleOperand(n: NodeContext, c: Const, x: Value): Const {
  if (!n.imp.batched) return c;
  const batchAt = x.batchAt ?? 0;
  const full = x.shape.length + (x.merged ? 0 : 1);
  if (c.dims.length > full) throw new NodeError(`constant operand has dims [${c.dims.join(', ')}], more than the activation's rank ${full}`);
  const over = batchAt - (full - c.dims.length);
  if (over < 0 || c.dims[over] === 1) return x.merged || over < 0 ? c : ({ ...c, dims: c.dims.filter((_, i) => i !== over) } as Const);
  const B = n.imp.declaredBatch;
  if (x.merged) {
    const k = x.shape[batchAt];
    const per = B === null || c.dims[over] !== B * k ? null : mergedSample(c, over, B, k, x.merged);
    if (!per) throw new NodeError(`constant operand has dims [${c.dims.join(', ')}]; over the activation's merged batch·${k} its dim must be 1, or the declared batch·${k} with every sample alike`);
    return per;
  }
  const one = uniformAlong(c, over, B);
  if (!one) throw new NodeError(`constant operand has dims [${c.dims.join(', ')}]; its ${over === 0 ? 'first ' : ''}(batch) dim must be 1, or the declared batch with every sample alike`);
  return { ...one, dims: one.dims.filter((_, i) => i !== over) } as Const;
}

/** One sample's k entries of a constant's axis holding B·k (merged batch major, b·k + i, or minor, i·B + b), when every sample's are alike. */
function mergedSample(c: Const, axis: number, B: number, k: number, order: BatchMerge): Const | null {
  const split = order === 'major' ? [B, k] : [k, B];
  const view = { ...c, dims: [...c.dims.slice(0, axis), ...split, ...c.dims.slice(axis + 1)] } as Const;
  const one = uniformAlong(view, order === 'major' ? axis : axis + 1, B);
  return one && ({ ...one, dims: [...c.dims.slice(0, axis), k, ...c.dims.slice(axis + 1)] } as Const);
}

/** Input `i` as a binary operand: a constant, or an activation wherever its batch sits. */
export function operandAt(n: NodeContext, i: number, what: string): Operand {
  const c = n.constAt(i);
  return c ? { c } : { v: n.valueAnyBatch(i, what, true) };
}

/**
 * Add of an activation and a value deferred for the batch size (probe.ts): torch.arange(batch)·k
 * shaped [batch, 1, …] offsets each sample's row indices into a [batch·k, …] view
 * (`h[torch.arange(batch), idx]`), kept as Value.sampleOffset for the Gather that reads it; any other
 * deferred value must settle into a shape constant. True when the Add is done.
 */
function sampleOffsetAdd(n: NodeContext): boolean {
  const at = [0, 1].find((i) => n.ins[i] && !n.imp.valueOf(n.ins[i]!) && !n.imp.constOf(n.ins[i]!));
  if (at === undefined) return staticSampleOffsetAdd(n);
  const v = n.imp.valueOf(n.ins[1 - at] ?? '');
  const k = v && !v.batchAt && !v.merged && !v.sampleOffset ? sampleStep((b) => n.imp.probe(n.ins[at]!, b), n.rankOf(v)) : null;
  if (k === null) {
    n.imp.settle(n.ins[at]!);
    return false;
  }
  return markOffsets(n, v!, k);
}

/** The Add's output is `v` itself, marked as holding k·(the sample's index) besides (Value.sampleOffset). */
function markOffsets(n: NodeContext, v: Value, k: number): true {
  n.imp.emit({ kind: 'reshape', name: n.name, inputs: [v.name], output: n.out, outShape: v.shape }, [...v.shape], v.dtype);
  n.imp.markSampleOffset(n.out, k);
  return true;
}

/**
 * sampleOffsetAdd's torch.arange(batch)·k in a static-batch export: a constant [declared batch, 1, …]
 * holding 0, k, 2k, … (the traced samples' own offsets), added to an activation. True when the Add is done.
 */
function staticSampleOffsetAdd(n: NodeContext): boolean {
  const B = n.imp.declaredBatch;
  if (B === null || B < 2 || !n.imp.batched) return false;
  const at = [0, 1].find((i) => n.ins[i] && n.imp.constOf(n.ins[i]!) && n.imp.valueOf(n.ins[1 - i] ?? ''));
  if (at === undefined) return false;
  const c = n.imp.constOf(n.ins[at]!)!;
  const v = n.imp.valueOf(n.ins[1 - at]!)!;
  if (v.batchAt || v.merged || v.sampleOffset) return false;
  const k = sampleStep(() => c, n.rankOf(v), [B]);
  return k !== null && markOffsets(n, v, k);
}

function binary(fn: BinaryFn): OpImporter {
  const activation = (n: NodeContext): void => {
    if (fn === 'add' && sampleOffsetAdd(n)) return;
    const a = operandAt(n, 0, 'A');
    const b = operandAt(n, 1, 'B');
    // A constant Add/Sub right after a Gemm/MatMul/Conv is that layer's bias (never one holding ±Inf, a mask).
    const masked = !!n.imp.infiniteOf(n.ins[a.c ? 0 : 1] ?? '');
    const target = masked ? null : a.v && b.c && (fn === 'add' || fn === 'sub') ? n.imp.foldTarget(a.v.name) : b.v && a.c && fn === 'add' ? n.imp.foldTarget(b.v.name) : null;
    if (target) {
      const x = (a.v ?? b.v)!;
      const c = perSampleOperand(n, (a.c ?? b.c)!, x);
      const per = channelVector(target, c.dims, floatsOf(c, 'constant operand'));
      if (per) {
        n.imp.foldInto(target, n.out, (l) => {
          const bias = new Float32Array(per.length);
          for (let i = 0; i < per.length; i++) bias[i] = (l.bias ? l.bias[i] : 0) + (fn === 'add' ? per[i] : -per[i]);
          l.bias = bias;
        });
        return;
      }
    }
    emitBinary(n, fn, a, b, n.out);
  };
  return { fold: (n) => foldBinary(fn, n.constIn(0, 'input 0'), n.constIn(1, 'input 1')), activation, ...(fn === 'add' ? { batchProbe: true } : {}) };
}

/** Sum, Mean, Max, Min of any number of inputs: the constants folded into one, the rest a chain of binary ops. */
function variadic(fn: 'add' | 'max' | 'min', mean: boolean): OpImporter {
  const present = (n: NodeContext): number[] => n.ins.map((x, i) => (x ? i : -1)).filter((i) => i >= 0);
  const foldAll = (n: NodeContext, idx: number[]): Const | null => {
    if (idx.length === 0) return null;
    let acc = n.constAt(idx[0])!;
    for (const i of idx.slice(1)) acc = foldBinary(fn, acc, n.constAt(i)!);
    return acc;
  };
  const scale = (n: NodeContext, c: Const, k: number): Const => foldBinary('mul', c, { kind: 'float', dims: [], data: Float32Array.of(1 / k) });
  return {
    fold(n) {
      const idx = present(n);
      const s = foldAll(n, idx)!;
      return mean ? scale(n, s, idx.length) : s;
    },
    activation(n) {
      const idx = present(n);
      const acts = idx.filter((i) => !n.constAt(i)).map((i) => n.value(i, `input ${i}`));
      const consts = foldAll(n, idx.filter((i) => n.constAt(i)));
      const steps: Operand[] = [...acts.slice(1).map((v) => ({ v })), ...(consts ? [{ c: consts }] : [])];
      if (mean) steps.push({ c: { kind: 'float', dims: [], data: Float32Array.of(1 / idx.length) } });
      let acc: Value = acts[0];
      if (steps.length === 0) {
        n.imp.emit({ kind: 'reshape', name: n.name, inputs: [acc.name], output: n.out, outShape: acc.shape }, [...acc.shape], acc.dtype);
        return;
      }
      emitChain(n, steps.length, (k, out, name) => {
        emitBinary(n, mean && k === steps.length - 1 ? 'mul' : fn, { v: acc }, steps[k], out, name);
        acc = n.imp.valueOf(out)!;
      });
    },
  };
}

function where(n: NodeContext): void {
  const names = ['condition', 'X', 'Y'];
  // Elementwise: the batch may sit anywhere, merged with another dim or not (attention's key-padding
  // mask selects over [batch·heads, 1, T]), if every activation has it in the same place.
  const acts = [0, 1, 2].filter((i) => !n.constAt(i)).map((i) => n.valueAnyBatch(i, names[i], true));
  const [at, merged] = [acts[0].batchAt ?? 0, acts[0].merged];
  if (acts.some((v) => (v.batchAt ?? 0) !== at || v.merged !== merged)) {
    throw new NodeError(`activations have the batch dimension at different axes or merged differently (${acts.map((v) => `${v.batchAt ?? 0}${v.merged ? ` merged ${v.merged}` : ''}`).join(', ')})`);
  }
  const rank = acts[0].shape.length;
  if (n.imp.batched && acts.some((v) => v.shape.length !== rank)) {
    throw new NodeError(`activations have per-sample shapes ${acts.map((v) => `[${v.shape.join(', ')}]`).join(', ')} of different rank; broadcasting would mix the batch dimension with another`);
  }
  if (merged && acts.some((v) => v.shape[at] !== acts[0].shape[at])) throw new NodeError('activations with a merged batch must share the merged dim');
  const [c, x, y] = [0, 1, 2].map((i) => {
    const k = n.constAt(i);
    if (!k) return n.valueAnyBatch(i, names[i], true);
    const per = perSampleOperand(n, k, acts[0]);
    return n.constValue(per, per.dims, names[i]);
  });
  const outShape = broadcastShapes(c.shape, x.shape, y.shape);
  if (!outShape) throw new NodeError(`shapes [${c.shape.join(', ')}], [${x.shape.join(', ')}] and [${y.shape.join(', ')}] do not broadcast`);
  if (merged && outShape.length !== rank) throw new NodeError(`a constant operand has more dims than the activations' rank ${rank}`);
  n.imp.emit({ kind: 'where', name: n.name, inputs: [c.name, x.name, y.name], output: n.out, condShape: c.shape, xShape: x.shape, yShape: y.shape, outShape }, outShape, x.dtype, at, merged);
}

/**
 * OneHot of activation indices (F.one_hot): equal(indices with a new axis, 0 … depth−1) scaled to
 * [off, on]; a negative index counts from depth (ONNX), one out of range gives an all-off row.
 */
function oneHot(n: NodeContext): void {
  const x = n.value(0, 'indices');
  const depth = n.scalar(n.constIn(1, 'depth'), 'depth');
  if (!Number.isInteger(depth) || depth < 1) throw new NodeError(`depth is ${depth}; it must be a positive integer`);
  const values = floatsOf(n.constIn(2, 'values'), 'values');
  if (values.length !== 2) throw new NodeError(`values has ${values.length} entries; it must be [off_value, on_value]`);
  const [off, on] = values;
  const axis = n.sampleAxis(n.a.int('axis', -1), x.shape.length + 1);
  const step = (fn: BinaryFn, lhs: Operand, rhs: Operand, what: string): Value => {
    const out = n.imp.fresh(`${n.name}/${what}`);
    emitBinary(n, fn, lhs, rhs, out, `${n.name}/${what}`);
    return n.imp.valueOf(out)!;
  };
  const scalar = (v: number): Operand => ({ c: { kind: 'float', dims: [1], data: Float32Array.of(v) } });
  const wrapped = step('add', { v: x }, { v: step('mul', { v: step('less', { v: x }, scalar(0), 'negative') }, scalar(depth), 'wrap') }, 'index');
  const spread = reshapeTo(n, wrapped, [...x.shape.slice(0, axis), 1, ...x.shape.slice(axis)]);
  // 0 … depth−1 along the new axis, broadcast over the axes after it.
  const range: Const = { kind: 'float', dims: [depth, ...new Array<number>(x.shape.length - axis).fill(1)], data: Float32Array.from({ length: depth }, (_, i) => i) };
  const hot = step('equal', { v: spread }, { c: range }, 'hot');
  emitBinary(n, 'add', { v: step('mul', { v: hot }, scalar(on - off), 'scale') }, scalar(off), n.out);
}

/** Elementwise ops by ONNX op type. */
export const ELEMENTWISE_OPS: OpTable = {
  Add: binary('add'),
  Sub: binary('sub'),
  Mul: binary('mul'),
  Div: binary('div'),
  Pow: binary('pow'),
  Equal: binary('equal'),
  Less: binary('less'),
  Greater: binary('greater'),
  Sum: variadic('add', false),
  Mean: variadic('add', true),
  Max: variadic('max', false),
  Min: variadic('min', false),
  Where: { activation: where, fold: (n) => foldWhere(n.constIn(0, 'condition'), n.constIn(1, 'X'), n.constIn(2, 'Y')) },
  Relu: math('relu'),
  LeakyRelu: { activation: unary('leaky-relu') },
  Sigmoid: math('sigmoid'),
  Tanh: math('tanh'),
  Clip: { activation: unary('clip'), fold: foldClip },
  Gelu: { activation: gelu },
  Erf: { activation: unary('erf') },
  HardSigmoid: { activation: unary('hard-sigmoid') },
  HardSwish: { activation: unary('hard-swish') },
  Elu: { activation: unary('elu') },
  Celu: { activation: unary('celu') },
  Selu: { activation: unary('selu') },
  Softplus: { activation: unary('softplus') },
  Softsign: { activation: unary('softsign') },
  Mish: { activation: unary('mish') },
  Sign: math('sign'),
  Sin: math('sin'),
  Cos: math('cos'),
  Floor: math('floor'),
  Ceil: math('ceil'),
  Round: math('round'),
  PRelu: { activation: prelu },
  Exp: math('exp'),
  Log: math('log'),
  Neg: math('neg'),
  Abs: math('abs'),
  Reciprocal: math('reciprocal'),
  Sqrt: math('sqrt'),
  Not: math('not'),
  // torch.isnan, torch.nan_to_num, torch.isfinite; IsInf of one sign only (torch.isposinf) is refused.
  IsNaN: math('is-nan'),
  IsInf: { ...math('is-inf'), activation: (n) => { if (n.a.int('detect_negative', 1) !== 1 || n.a.int('detect_positive', 1) !== 1) throw new NodeError('detects infinities of one sign only (detect_negative or detect_positive is 0); only both are supported'); unary('is-inf')(n); } },
  OneHot: { activation: oneHot },
  Tan: math('tan'),
  Asin: math('asin'),
  Acos: math('acos'),
  Atan: math('atan'),
  Sinh: math('sinh'),
  Cosh: math('cosh'),
  Asinh: math('asinh'),
  Acosh: math('acosh'),
  Atanh: math('atanh'),
  ThresholdedRelu: { activation: unary('thresholded-relu') },
  Shrink: { activation: unary('shrink') },
};
