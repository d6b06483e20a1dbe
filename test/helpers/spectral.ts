/**
 * DFT, STFT and the window and mel constants in small float models, run digitally and compared with
 * the transforms written out in f64 as complex sums (not the importer's matrix); shared by the CPU
 * and WebGPU tests.
 */
import type { Backend } from '../../src/gpu/backend.ts';
import type { BuildNode, BuildTensor } from '../../src/io/onnx/build.ts';
import { digitalForward } from './digital-run.ts';
import { f32, i64, xyModel } from './onnx-nodes.ts';
import { randomArray } from './random.ts';

type Complex = [number, number];

/** X[k] = Σ_{t < min(len, N)} x[t]·e^{∓2πi·kt/N} (÷N inverse), k < K. */
export function naiveDft(x: Complex[], N: number, K: number, inverse: boolean): Complex[] {
  return Array.from({ length: K }, (_, k) => {
    let [re, im] = [0, 0];
    for (let t = 0; t < Math.min(x.length, N); t++) {
      const a = ((inverse ? 2 : -2) * Math.PI * k * t) / N;
      re += x[t][0] * Math.cos(a) - x[t][1] * Math.sin(a);
      im += x[t][0] * Math.sin(a) + x[t][1] * Math.cos(a);
    }
    return inverse ? [re / N, im / N] : [re, im];
  });
}

/** The window formula a0 − a1·cos(2πn/M) + a2·cos(4πn/M). */
export function windowOf(kind: 'hann' | 'hamming' | 'blackman', size: number, periodic: boolean): number[] {
  const [a0, a1, a2] = { hann: [0.5, 0.5, 0], hamming: [25 / 46, 21 / 46, 0], blackman: [0.42, 0.5, 0.08] }[kind];
  const M = periodic ? size : size - 1;
  return Array.from({ length: size }, (_, n) => a0 - a1 * Math.cos((2 * Math.PI * n) / M) + a2 * Math.cos((4 * Math.PI * n) / M));
}

const strides = (d: readonly number[]): number[] => d.map((_, i) => d.slice(i + 1).reduce((a, b) => a * b, 1));

/**
 * DFT of one sample of per-sample dims `d` (last = components) along per-sample axis `a`: output dims
 * with d[a] → K and the last → 2, flat.
 */
function dftSample(x: ArrayLike<number>, d: number[], a: number, N: number, K: number, inverse: boolean): number[] {
  const c = d[d.length - 1];
  const outDims = d.map((v, i) => (i === a ? K : i === d.length - 1 ? 2 : v));
  const [si, so] = [strides(d), strides(outDims)];
  const out = new Array<number>(outDims.reduce((p, q) => p * q, 1)).fill(0);
  const lines = d.map((v, i) => (i === a || i === d.length - 1 ? 1 : v));
  for (let line = 0; line < lines.reduce((p, q) => p * q, 1); line++) {
    const at = strides(lines).map((s, i) => Math.floor(line / s) % lines[i]);
    const base = at.reduce((p, v, i) => p + v * si[i], 0);
    const signal: Complex[] = Array.from({ length: d[a] }, (_, t) => [x[base + t * si[a]], c === 2 ? x[base + t * si[a] + 1] : 0]);
    naiveDft(signal, N, K, inverse).forEach(([re, im], k) => {
      const o = at.reduce((p, v, i) => p + v * so[i], 0) + k * so[a];
      out[o] = re;
      out[o + 1] = im;
    });
  }
  return out;
}

/** Windowed frames of a [len, c] sample, each transformed: [frames, K, 2] flat. */
function stftSample(x: ArrayLike<number>, len: number, c: number, step: number, L: number, window: number[] | null, onesided: boolean): number[] {
  const F = Math.floor((len - L) / step) + 1;
  const out: number[] = [];
  for (let f = 0; f < F; f++) {
    const frame: Complex[] = Array.from({ length: L }, (_, t) => {
      const w = window ? window[t] : 1;
      const i = (f * step + t) * c;
      return [x[i] * w, c === 2 ? x[i + 1] * w : 0];
    });
    for (const [re, im] of naiveDft(frame, L, onesided ? Math.floor(L / 2) + 1 : L, false)) out.push(re, im);
  }
  return out;
}

export interface SpectralCase {
  model: Uint8Array;
  /** Per-sample input dims. */
  dims: number[];
  ref: (x: Float32Array) => number[];
}

/** The signal ops' models, opset 17 unless given. */
const model = (dims: number[], nodes: BuildNode[], initializers: BuildTensor[] = [], opset = 17): Uint8Array => xyModel(dims, nodes, initializers, opset);

function dftCase(dims: number[], o: { axis: number; N?: number; inverse?: boolean; onesided?: boolean; opset?: number }): SpectralCase {
  const a = (o.axis < 0 ? o.axis + dims.length + 1 : o.axis) - 1;
  const N = o.N ?? dims[a];
  const K = o.onesided ? Math.floor(N / 2) + 1 : N;
  const opset = o.opset ?? 17;
  const attrs = { ...(opset < 20 ? { axis: o.axis } : {}), inverse: o.inverse ? 1 : 0, onesided: o.onesided ? 1 : 0 };
  const inputs = ['x', o.N ? 'n' : '', ...(opset >= 20 ? ['axis'] : [])];
  const init = [...(o.N ? [i64('n', [o.N], [])] : []), ...(opset >= 20 ? [i64('axis', [o.axis], [])] : [])];
  return { model: model(dims, [{ op: 'DFT', inputs, outputs: ['y'], attrs }], init, opset), dims, ref: (x) => dftSample(x, dims, a, N, K, !!o.inverse) };
}

/** STFT of a [len, c] (or [len]) signal, the window from a window op when `window` is given. */
function stftCase(dims: number[], o: { step: number; L?: number; window?: ['hann' | 'hamming' | 'blackman', number, boolean]; onesided?: boolean }): SpectralCase {
  const [len, c] = [dims[0], dims[1] ?? 1];
  const w = o.window ? windowOf(...o.window) : null;
  const L = o.L ?? w?.length ?? len;
  const op = o.window ? { hann: 'HannWindow', hamming: 'HammingWindow', blackman: 'BlackmanWindow' }[o.window[0]] : '';
  const nodes: BuildNode[] = [
    ...(o.window ? [{ op, inputs: ['wsize'], outputs: ['w'], attrs: { periodic: o.window[2] ? 1 : 0 } }] : []),
    { op: 'STFT', inputs: ['x', 'step', o.window ? 'w' : '', o.L ? 'L' : ''], outputs: ['y'], attrs: { onesided: o.onesided === false ? 0 : 1 } },
  ];
  const init = [i64('step', [o.step], []), ...(o.window ? [i64('wsize', [o.window[1]], [])] : []), ...(o.L ? [i64('L', [o.L], [])] : [])];
  return { model: model(dims, nodes, init), dims, ref: (x) => stftSample(x, len, c, o.step, L, w, o.onesided !== false) };
}

/** Triangles from ONNX's reference MelWeightMatrix (onnx/reference/ops/op_mel_weight_matrix.py, run once in numpy) for 5 bins, dft_length 64, 16 kHz, 300–7000 Hz: [row, column, value]. */
const MEL_5_64: [number, number, number][] = [
  [2, 0, 1], [3, 0, 0.5], [3, 1, 0.5], [4, 1, 1], [5, 1, 0.5], [5, 2, 0.5], [6, 2, 1], [7, 2, 0.75], [7, 3, 0.25], [8, 2, 0.5], [8, 3, 0.5],
  [9, 2, 0.25], [9, 3, 0.75], [10, 3, 1], [11, 3, 0.75], [11, 4, 0.25], [12, 3, 0.5], [12, 4, 0.5], [13, 3, 0.25], [13, 4, 0.75], [14, 4, 1],
  [15, 4, 5 / 6], [16, 4, 4 / 6], [17, 4, 0.5], [18, 4, 2 / 6], [19, 4, 1 / 6],
];

/** An audio front end: STFT (Hann 64, hop 16) → power → × MelWeightMatrix → log. */
function melFrontEnd(): SpectralCase {
  const [len, L, step, bins] = [160, 64, 16, 5];
  const w = windowOf('hann', L, true);
  const i32 = (name: string, v: number): BuildTensor => ({ name, dims: [], data: Int32Array.of(v) });
  const nodes: BuildNode[] = [
    { op: 'HannWindow', inputs: ['wsize'], outputs: ['w'] },
    { op: 'STFT', inputs: ['x', 'step', 'w'], outputs: ['spec'] },
    { op: 'Mul', inputs: ['spec', 'spec'], outputs: ['sq'] },
    { op: 'ReduceSum', inputs: ['sq', 'last'], outputs: ['power'], attrs: { keepdims: 0 } },
    { op: 'MelWeightMatrix', inputs: ['bins', 'n', 'rate', 'lo', 'hi'], outputs: ['mel'] },
    { op: 'MatMul', inputs: ['power', 'mel'], outputs: ['melpow'] },
    { op: 'Add', inputs: ['melpow', 'eps'], outputs: ['floored'] },
    { op: 'Log', inputs: ['floored'], outputs: ['y'] },
  ];
  const init = [i64('wsize', [L], []), i64('step', [step], []), i64('last', [-1]), i32('bins', bins), i32('n', L), i32('rate', 16000), f32('lo', 300), f32('hi', 7000), f32('eps', 1e-6)];
  return {
    model: model([len, 1], nodes, init),
    dims: [len, 1],
    ref: (x) => {
      const spec = stftSample(x, len, 1, step, L, w, true);
      const K = L / 2 + 1;
      const out: number[] = [];
      for (let f = 0; f < spec.length / (K * 2); f++) {
        const power = Array.from({ length: K }, (_, k) => spec[(f * K + k) * 2] ** 2 + spec[(f * K + k) * 2 + 1] ** 2);
        const mel = new Array<number>(bins).fill(0);
        for (const [r, col, v] of MEL_5_64) mel[col] += power[r] * v;
        out.push(...mel.map((m) => Math.log(m + 1e-6)));
      }
      return out;
    },
  };
}

export const SPECTRAL_CASES: [string, SpectralCase][] = [
  ['DFT of a real signal', dftCase([8, 1], { axis: 1 })],
  ['inverse DFT of a complex signal along axis 2, zero-padded to 10', dftCase([3, 7, 2], { axis: 2, N: 10, inverse: true })],
  ['one-sided DFT along axis 1 of [6, 4, 1], truncated to 5', dftCase([6, 4, 1], { axis: 1, N: 5, onesided: true })],
  ['DFT with the axis as an input (opset 20), axis -2', dftCase([3, 9, 1], { axis: -2, opset: 20 })],
  ['DFT of a complex signal along axis 1 of [5, 3, 2] (opset 20, axis 1)', dftCase([5, 3, 2], { axis: 1, opset: 20 })],
  ['STFT, periodic Hann 16, hop 7, one-sided', stftCase([50, 1], { step: 7, window: ['hann', 16, true] })],
  ['STFT of a [len] signal, frame_length 8, no window, hop 8, two-sided', stftCase([40], { step: 8, L: 8, onesided: false })],
  ['STFT of a complex signal, symmetric Hamming 10, hop 5, two-sided', stftCase([30, 2], { step: 5, window: ['hamming', 10, false], onesided: false })],
  ['STFT, symmetric Blackman 12, hop 3', stftCase([33, 1], { step: 3, window: ['blackman', 12, false] })],
  ['log-mel front end: STFT, power, MelWeightMatrix, log', melFrontEnd()],
];

/** The largest error relative to max(1, |definition|) over B samples. */
export async function spectralError(backend: Backend, c: SpectralCase, B: number): Promise<number> {
  const per = c.dims.reduce((a, b) => a * b, 1);
  const x = randomArray(B * per, 19, -1, 1);
  const got = await digitalForward(backend, c.model, 'spectral.onnx', x, B);
  const n = got.length / B;
  let worst = 0;
  for (let b = 0; b < B; b++) {
    const want = c.ref(x.subarray(b * per, (b + 1) * per));
    if (want.length !== n) throw new Error(`output has ${n} values per sample, the definition ${want.length}`);
    want.forEach((w, i) => (worst = Math.max(worst, Math.abs(got[b * n + i] - w) / Math.max(1, Math.abs(w)))));
  }
  return worst;
}

/** The window op `op` of `size` as a model's output (x · 0 + window), for checking its values. */
export function windowModel(op: string, size: number, periodic: boolean): Uint8Array {
  return model([size], [
    { op, inputs: ['size'], outputs: ['w'], attrs: { periodic: periodic ? 1 : 0 } },
    { op: 'Mul', inputs: ['x', 'zero'], outputs: ['z'] },
    { op: 'Add', inputs: ['z', 'w'], outputs: ['y'] },
  ], [i64('size', [size], []), { name: 'zero', dims: [], data: Float32Array.of(0) }]);
}

/** MelWeightMatrix for 5 bins, dft_length 64, 16 kHz, 300–7000 Hz as a model's output, and ONNX's reference triangles. */
export function melModel(): { model: Uint8Array; want: Float32Array } {
  const want = new Float32Array(33 * 5);
  for (const [r, c, v] of MEL_5_64) want[r * 5 + c] = v;
  const i64s = (name: string, v: number): BuildTensor => i64(name, [v], []);
  return {
    model: model([33, 5], [
      { op: 'MelWeightMatrix', inputs: ['bins', 'n', 'rate', 'lo', 'hi'], outputs: ['mel'] },
      { op: 'Mul', inputs: ['x', 'zero'], outputs: ['z'] },
      { op: 'Add', inputs: ['z', 'mel'], outputs: ['y'] },
    ], [i64s('bins', 5), i64s('n', 64), i64s('rate', 16000), f32('lo', 300), f32('hi', 7000), f32('zero', 0)]),
    want,
  };
}
