/**
 * Signal processing (opset 17): DFT and STFT on activations, and the constants that go with them
 * (HannWindow, HammingWindow, BlackmanWindow, MelWeightMatrix), as an audio model's front end
 * computes a spectrogram. A DFT of fixed length is a product with a constant matrix of cosines and
 * sines (the window folded in); it is the model's signal processing, not a learned weight, so it runs
 * as a digital `matmul`, never on a crossbar.
 */
import { count, floatsOf } from '../consts.ts';
import type { Const } from '../consts.ts';
import { NodeError } from '../node.ts';
import type { NodeContext, OpTable, Value } from '../node.ts';
import { DataType } from '../proto.ts';
import { reshapeTo } from './matrix.ts';

/**
 * The [L·c, K·2] matrix taking L samples of c components (1 real, 2 complex: re, im) to bins
 * k = 0 … K−1 of an N-point transform (re, im): X[k] = Σ_{n < min(L, N)} w[n]·x[n]·e^{∓2πi·kn/N},
 * divided by N for the inverse. Samples past N are dropped and missing ones are zeros (dft_length).
 */
export function dftMatrix(L: number, c: 1 | 2, N: number, K: number, inverse: boolean, window: Float32Array | null): Float32Array {
  const m = new Float32Array(L * c * K * 2);
  const sign = inverse ? 1 : -1;
  const scale = inverse ? 1 / N : 1;
  for (let t = 0; t < Math.min(L, N); t++) {
    const w = (window ? window[t] : 1) * scale;
    for (let k = 0; k < K; k++) {
      // (k·t) mod N keeps the angle exact for long transforms.
      const theta = (2 * Math.PI * ((k * t) % N)) / N;
      const [cos, sin] = [Math.cos(theta) * w, sign * Math.sin(theta) * w];
      const re = (t * c) * K * 2 + k * 2;
      // (a + ib)(cos + i·sin) = (a·cos − b·sin) + i(a·sin + b·cos).
      m[re] = cos;
      m[re + 1] = sin;
      if (c === 2) {
        const im = (t * c + 1) * K * 2 + k * 2;
        m[im] = -sin;
        m[im + 1] = cos;
      }
    }
  }
  return m;
}

/** A fresh name for a step of the node. */
const fresh = (n: NodeContext, what: string): string => n.imp.fresh(`${n.name}/${what}`);

function transpose(n: NodeContext, x: Value, perm: number[], out = fresh(n, 'transpose')): Value {
  n.imp.emit({ kind: 'transpose', name: n.name, inputs: [x.name], output: out, perm, inShape: x.shape }, perm.map((p) => x.shape[p]));
  return n.imp.valueOf(out)!;
}

/** Rows [R, L·c] times the transform matrix, digitally: [R, K·2]. */
function transform(n: NodeContext, rows: Value, R: number, Lc: number, K: number, matrix: Float32Array): Value {
  const basis = n.constValue({ kind: 'float', dims: [Lc, K * 2], data: matrix }, [Lc, K * 2], 'basis');
  const out = fresh(n, 'bins');
  n.imp.emit({ kind: 'matmul', name: n.name, inputs: [rows.name, basis.name], output: out, aShape: [R, Lc], bShape: [Lc, K * 2], outShape: [R, K * 2] }, [R, K * 2]);
  return n.imp.valueOf(out)!;
}

function components(n: NodeContext, c: number, what: string): 1 | 2 {
  if (c !== 1 && c !== 2) throw new NodeError(`${what}'s last dim is ${c}; it must be 1 (real) or 2 (real, imaginary)`);
  return c;
}

/** Bins of an N-point transform: N, or N/2 + 1 one-sided (attribute onesided, default `def`), which a complex `what` refuses. */
function binsOf(n: NodeContext, N: number, c: 1 | 2, def: number, what: string): number {
  const onesided = n.a.int('onesided', def) !== 0;
  if (onesided && c === 2) throw new NodeError(`onesided is 1 with a complex ${what}; a one-sided spectrum needs a real one (set onesided 0)`);
  return onesided ? Math.floor(N / 2) + 1 : N;
}

/** An optional constant scalar integer input. */
function optInt(n: NodeContext, i: number, what: string): number | null {
  const c = n.optConst(i, what);
  if (!c) return null;
  const v = n.scalar(c, what);
  if (!Number.isInteger(v) || v < 1) throw new NodeError(`${what} is ${v}; it must be a positive integer`);
  return v;
}

/** DFT along a signal axis: [batch, …, L, …, c] → [batch, …, K, …, 2]. */
function dft(n: NodeContext): void {
  const x = n.value(0, 'input');
  const r = n.rankOf(x);
  const axisIn = n.opset >= 20 ? n.optConst(2, 'axis') : null;
  const raw = axisIn ? n.scalar(axisIn, 'axis') : n.opset >= 20 ? -2 : n.a.int('axis', 1);
  const axis = raw < 0 ? raw + r : raw;
  if (axis < 1 || axis > r - 2) throw new NodeError(`axis ${raw} is not a signal axis of a rank-${r} input; allowed: 1 … ${r - 2} (or ${1 - r} … -2), the first axis being the batch and the last the real/imaginary pair`);
  const a = axis - n.lead;
  const s = x.shape;
  const c = components(n, s[s.length - 1], 'input');
  const inverse = n.a.int('inverse', 0) !== 0;
  const L = s[a];
  const N = optInt(n, 1, 'dft_length') ?? L;
  const K = binsOf(n, N, c, 0, 'input');
  // Move the signal axis next to the pair, so each row is one signal.
  const others = s.map((_, i) => i).filter((i) => i !== a && i !== s.length - 1);
  const perm = [...others, a, s.length - 1];
  const moved = perm.some((p, i) => p !== i);
  const lead = others.map((i) => s[i]);
  const t = moved ? transpose(n, x, perm) : x;
  const R = count(lead);
  const y = transform(n, reshapeTo(n, t, [R, L * c]), R, L * c, K, dftMatrix(L, c, N, K, inverse, null));
  const bins = [...lead, K, 2];
  if (!moved) return void reshapeTo(n, y, bins, n.out);
  transpose(n, reshapeTo(n, y, bins), perm.map((_, i) => perm.indexOf(i)), n.out);
}

/** STFT: frames of the signal [batch, len, c] (or [batch, len]), windowed and transformed: [batch, frames, K, 2]. */
function stft(n: NodeContext): void {
  const x = n.value(0, 'signal');
  const s = x.shape.length === 1 ? [x.shape[0], 1] : x.shape;
  if (s.length !== 2) throw new NodeError(`signal has per-sample shape [${x.shape.join(', ')}]; STFT takes [signal_length, 1 or 2] per sample`);
  const [len] = s;
  const c = components(n, s[1], 'signal');
  const step = optInt(n, 1, 'frame_step');
  if (step === null) throw new NodeError('frame_step (input 1) is missing');
  const win = n.optConst(2, 'window');
  const window = win ? Float32Array.from(floatsOf(win, 'window')) : null;
  if (win && win.dims.length !== 1) throw new NodeError(`window has dims [${win.dims.join(', ')}]; it must be 1-D`);
  const L = optInt(n, 3, 'frame_length') ?? window?.length ?? len;
  if (window && window.length !== L) throw new NodeError(`window has ${window.length} values and frame_length is ${L}; they must be equal`);
  if (L > len) throw new NodeError(`frame_length ${L} is longer than the signal (${len})`);
  const F = Math.floor((len - L) / step) + 1;
  const K = binsOf(n, L, c, 1, 'signal');
  const signal = x.shape.length === 1 ? reshapeTo(n, x, [len, 1]) : x;
  const frames = fresh(n, 'frames');
  const indices = Int32Array.from({ length: F * L }, (_, i) => Math.floor(i / L) * step + (i % L));
  n.imp.emit({ kind: 'gather', name: n.name, inputs: [signal.name], output: frames, axis: 0, indices, indicesShape: [F, L], inShape: [len, c], outShape: [F, L, c] }, [F, L, c]);
  const y = transform(n, reshapeTo(n, n.imp.valueOf(frames)!, [F, L * c]), F, L * c, K, dftMatrix(L, c, L, K, false, window));
  reshapeTo(n, y, [F, K, 2], n.out);
}

/** A window of `size` samples: a0 − a1·cos(2πn/M) + a2·cos(4πn/M), M = size (periodic) or size − 1 (symmetric). */
function windowFold(a0: number, a1: number, a2: number): (n: NodeContext) => Const {
  return (n) => {
    const size = n.scalar(n.constIn(0, 'size'), 'size');
    if (!Number.isInteger(size) || size < 1) throw new NodeError(`size is ${size}; it must be a positive integer`);
    const type = n.a.int('output_datatype', DataType.FLOAT);
    if (type !== DataType.FLOAT && type !== DataType.DOUBLE && type !== DataType.FLOAT16) throw new NodeError(`output_datatype is ${type}; only floating-point windows are supported`);
    const M = n.a.int('periodic', 1) !== 0 ? size : size - 1;
    const data = Float32Array.from({ length: size }, (_, i) => a0 - a1 * Math.cos((2 * Math.PI * i) / M) + a2 * Math.cos((4 * Math.PI * i) / M));
    return { kind: 'float', dims: [size], data };
  };
}

/** MelWeightMatrix, [floor(dft_length/2) + 1, num_mel_bins] triangles of peak 1, as ONNX's reference and ONNX Runtime build them. */
function melWeightMatrix(n: NodeContext): Const {
  const int = (i: number, what: string): number => {
    const v = n.scalar(n.constIn(i, what), what);
    if (!Number.isInteger(v) || v < 1) throw new NodeError(`${what} is ${v}; it must be a positive integer`);
    return v;
  };
  const [bins, N, rate] = [int(0, 'num_mel_bins'), int(1, 'dft_length'), int(2, 'sample_rate')];
  const [lo, hi] = [3, 4].map((i) => n.scalar(n.constIn(i, i === 3 ? 'lower_edge_hertz' : 'upper_edge_hertz'), 'edge'));
  const spectrum = Math.floor(N / 2) + 1;
  const mel = (f: number): number => 2595 * Math.log10(1 + f / 700);
  const [loMel, hiMel] = [mel(lo), mel(hi)];
  // The reference divides the mel range by num_mel_bins + 2 points (not + 1), kept here as written.
  const stepMel = (hiMel - loMel) / (bins + 2);
  const edges = Array.from({ length: bins + 2 }, (_, i) => Math.floor(((N + 1) * 700 * (10 ** ((i * stepMel + loMel) / 2595) - 1)) / rate));
  if (edges.some((e) => e < 0 || e >= spectrum)) throw new NodeError(`the mel triangles reach bin ${Math.max(...edges)} of ${spectrum}: lower_edge_hertz ${lo} and upper_edge_hertz ${hi} must lie within 0 … sample_rate/2 for dft_length ${N}`);
  const out = new Float32Array(spectrum * bins);
  for (let i = 0; i < bins; i++) {
    const [left, centre, right] = [edges[i], edges[i + 1], edges[i + 2]];
    if (centre === left) out[centre * bins + i] = 1;
    else for (let j = left; j <= centre; j++) out[j * bins + i] = (j - left) / (centre - left);
    if (right > centre) for (let j = centre; j < right; j++) out[j * bins + i] = (right - j) / (right - centre);
  }
  return { kind: 'float', dims: [spectrum, bins], data: out };
}

/** Signal ops by ONNX op type. */
export const SPECTRAL_OPS: OpTable = {
  DFT: { activation: dft },
  STFT: { activation: stft },
  // Coefficients from the ONNX function bodies (HammingWindow's 25/46 and 21/46).
  HannWindow: { fold: windowFold(0.5, 0.5, 0) },
  HammingWindow: { fold: windowFold(25 / 46, 21 / 46, 0) },
  BlackmanWindow: { fold: windowFold(0.42, 0.5, 0.08) },
  MelWeightMatrix: { fold: melWeightMatrix },
};
