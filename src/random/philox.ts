/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), bit-identical
 * to `shaders/philox.wgsl`, and the Gaussian and uniform draws every noise model of DESIGN.md section 4
 * takes from it.
 *
 * Keys and counters (the contract shared by the CPU reference and every kernel):
 * - key = (seed mod 2^32, chip instance): a different chip is an independent stream of the same seed.
 * - counter = (element lo, element hi, layer, stream): `layer` is the crossbar layer's index in the
 *   network (0 for `xbarsim vmm`; per-read streams of a tied layer's later uses add 2^16 per use,
 *   perReadLayer), `stream` one of NOISE_STREAM below, and the element is a 64-bit
 *   index whose meaning each stream fixes:
 *   - static streams (programming, stuck-at, drift, deviceProgramming, deviceDrift): lo = cell index
 *     `((k·S + s)·pol + p)·N + j`, hi = 0;
 *   - gain: lo = `p·N + j` (row block, logical output column), hi = 0;
 *   - per-read streams (read or deviceRead, ADC, analog): hi = `2·v + pass` with v the vector's position in the whole
 *     input set (never the batch), lo = `((p·T' + t)·planes + plane)·2·ceil(N/4) + floor(j/2)`,
 *     where T' = T for `digital-sa` and 1 otherwise, and column j takes Gaussian `j mod 2` of that
 *     counter's pair (one Philox call feeds two columns).
 * The functions below are that layout for the CPU, and COUNTER_LAYOUT_WGSL the same for kernels
 * (test/gpu/noise.test.ts checks that both draw the same counters).
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** Streams of DESIGN.md section 4's noise sources: one per source so that enabling one never shifts another. */
export const NOISE_STREAM = {
  programming: 1,
  stuckAt: 2,
  drift: 3,
  gain: 4,
  read: 5,
  adc: 6,
  analog: 7,
  /** Device models (DESIGN.md section 12, src/devices): programming draw per cell. */
  deviceProgramming: 12,
  /** Device models: the time-dependent draw per cell (PCM drift exponent ν, CMO relaxation, Wan's re-draw). */
  deviceDrift: 13,
  /** Device models: per-read noise, keyed like `read`. */
  deviceRead: 14,
  /** Adapter training (src/nn/adapt): initial A, element = index in A, layer = the layer's matrix position. */
  adapterInit: 18,
  /** Adapter training: the mini-batch order, element lo = position in the epoch, hi = epoch. */
  adapterShuffle: 19,
  /**
   * The model's own random ops (RandomOp): key (seed, MODEL_KEY), layer word = the op's stream,
   * lo = the element's Philox call within its sample (e/2 for normal, e/4 for uniform and
   * Bernoulli), hi = the sample's position in the whole input set (0 for a draw shared by all).
   */
  model: 20,
} as const;

/** The key's second word of the model's random ops, where a chip's noise has the chip instance: the model draws the same on every chip. */
export const MODEL_KEY = 0x6d6f646c;

/** Element e of one sample of a model random op: normal a + b·N(0, 1), uniform a + (b − a)·U, Bernoulli [U < p]. */
export function modelDraw(draws: NoiseDraws, dist: 'normal' | 'uniform' | 'bernoulli', a: number, b: number, e: number, sample: number, p = 0): number {
  if (dist === 'normal') return a + b * draws.normal(Math.floor(e / 2), sample, (e % 2) as 0 | 1);
  const w = draws.words(Math.floor(e / 4), sample)[e % 4];
  // U < p as integers, (2k + 1)/2²⁵ < p ⟺ 2k + 1 < ⌈p·2²⁵⌉ (k = w >>> 8), so that the GPU's f32 decides alike.
  if (dist === 'bernoulli') return 2 * (w >>> 8) + 1 < Math.ceil(p * 2 ** 25) ? 1 : 0;
  return a + (b - a) * uniform24(w);
}

/** Element of a static stream: the cell index in ProgrammedLayer.G's [K, S, pol, N] order. */
export function staticElement(k: number, s: number, p: number, j: number, S: number, pol: number, N: number): number {
  return ((k * S + s) * pol + p) * N + j;
}

/** Element lo of a per-read draw at row block p, cycle t, plane and column j (cyclesKeyed = T'). */
export function perReadLo(p: number, t: number, plane: number, j: number, cyclesKeyed: number, planes: number, N: number): number {
  return ((p * cyclesKeyed + t) * planes + plane) * (2 * Math.ceil(N / 4)) + Math.floor(j / 2);
}

/**
 * The counter's layer word of a per-read draw: the matrix's position, plus 2^16 per earlier use when
 * the layer is tied (one crossbar read at several time steps sees the same vectors' positions, and
 * each read draws afresh). Untied layers (use 0) keep the plain position.
 */
export function perReadLayer(matrixIndex: number, use: number): number {
  return (matrixIndex + use * 0x10000) >>> 0;
}

/** Element hi of a per-read draw of vector v (its position in the whole input set) in pass 0 (X⁺) or 1 (X⁻). */
export function perReadHi(v: number, pass: number): number {
  return 2 * v + pass;
}

/**
 * The stream ids and counter layout above in WGSL, for kernels to include after shaders/philox.wgsl:
 * `STREAM_*` constants from NOISE_STREAM, and the counters of one static cell or of the column pair
 * (2·col4, 2·col4 + 1) of a per-read draw.
 */
export const COUNTER_LAYOUT_WGSL = [
  '// Generated from src/random/philox.ts (NOISE_STREAM and the counter layout): do not edit in a shader.',
  ...Object.entries(NOISE_STREAM).map(([name, id]) => `const STREAM_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}: u32 = ${id}u;`),
  'fn staticElement(k: u32, s: u32, p: u32, j: u32, S: u32, pol: u32, N: u32) -> u32 {',
  '  return ((k * S + s) * pol + p) * N + j;',
  '}',
  'fn staticCounter(cell: u32, layer: u32, stream: u32) -> vec4<u32> {',
  '  return vec4<u32>(cell, 0u, layer, stream);',
  '}',
  '// perReadLo of the first column of col4 (= 2·col4 + floor(e/2) for column 4·col4 + e); pairs = 2·ceil(N/4).',
  'fn perReadLo(p: u32, t: u32, plane: u32, col4: u32, cyclesKeyed: u32, planes: u32, pairs: u32) -> u32 {',
  '  return ((p * cyclesKeyed + t) * planes + plane) * pairs + col4 * 2u;',
  '}',
  'fn perReadHi(v: u32, ph: u32) -> u32 {',
  '  return 2u * v + ph;',
  '}',
  'fn perReadCounter(lo: u32, hi: u32, layer: u32, stream: u32) -> vec4<u32> {',
  '  return vec4<u32>(lo, hi, layer, stream);',
  '}',
].join('\n');

/** High 32 bits of the 64-bit product of two u32 (exact: every partial product stays below 2^53). */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const lh = al * bh;
  const hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + Math.floor(lh / 65536) + Math.floor(hl / 65536) + Math.floor(mid / 65536)) >>> 0;
}

/** Philox4x32-10 of a 4-word counter under a 2-word key. */
export function philox4x32(counter: ArrayLike<number>, key: ArrayLike<number>, out = new Uint32Array(4)): Uint32Array {
  let c0 = counter[0] >>> 0;
  let c1 = counter[1] >>> 0;
  let c2 = counter[2] >>> 0;
  let c3 = counter[3] >>> 0;
  let k0 = key[0] >>> 0;
  let k1 = key[1] >>> 0;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

/**
 * A uniform in (0, 1) from the top 24 bits of a word: exactly representable in f32, so the CPU and
 * the GPU see the same number (never 0, so log() is finite; never 1).
 */
export function uniform24(w: number): number {
  return ((w >>> 8) + 0.5) / 16777216;
}

/** Box–Muller on two words: one standard Gaussian. */
export function boxMuller(w0: number, w1: number): number {
  return Math.sqrt(-2 * Math.log(uniform24(w0))) * Math.cos(2 * Math.PI * uniform24(w1));
}

/** Draws of one (seed, chip, layer, stream): counters are built from element indices as documented above. */
export class NoiseDraws {
  private readonly key: Uint32Array;
  private readonly ctr = new Uint32Array(4);
  private readonly out = new Uint32Array(4);

  constructor(seed: number, chip: number, layer: number, stream: number) {
    this.key = Uint32Array.of(seed >>> 0, chip >>> 0);
    this.ctr[2] = layer >>> 0;
    this.ctr[3] = stream >>> 0;
  }

  /** The four raw words of element (lo, hi). */
  words(lo: number, hi = 0): Uint32Array {
    this.ctr[0] = lo >>> 0;
    this.ctr[1] = hi >>> 0;
    return philox4x32(this.ctr, this.key, this.out);
  }

  /** Gaussian `which` (0: from words 0–1, 1: from words 2–3) of element (lo, hi). */
  normal(lo: number, hi = 0, which: 0 | 1 = 0): number {
    const w = this.words(lo, hi);
    return which === 0 ? boxMuller(w[0], w[1]) : boxMuller(w[2], w[3]);
  }
}
