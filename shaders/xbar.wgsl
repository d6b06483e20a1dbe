// Crossbar VMM (DESIGN.md sections 3 and 4), one dispatch for every row block, cycle, slice and pass.
// Each invocation owns TM input vectors x 4 output columns. For every row block and input cycle it
// runs a small GEMM against NPL conductance "planes" (PC planes at a time, sharing one decode of the
// input bits), adds per-read noise, converts each current with the ADC in registers and shift-adds it,
// so currents never reach memory. In TRACE mode it records the largest |ADC input| instead (calibration).
// Inputs arrive quantized by shaders/quantize.wgsl (once per run, on the GPU, so a network's
// activations never leave it), with a per-vector flag for the X⁻ pass.
struct Params {
  K: u32,
  N: u32,
  N4: u32,
  rows: u32,        // input vectors in this dispatch
  rowStart: u32,    // first of them in the quantized inputs and flags
  rowOffset: u32,   // ... in the whole input set (keys the per-read noise)
  outRow: u32,      // ... and in the output buffer
  blockRows: u32,   // array.rows
  nBlocks: u32,
  adcBits: u32,
  dacBits: u32,
  seed: u32,
  chip: u32,
  layer: u32,
  Tfull: u32,       // input cycles T (the kernel runs one when collapsed)
  outScale: f32,    // sx times any drift compensation
  invVm: f32,       // 1 / (2^dacBits - 1)
  gminSub: f32,     // Gmin for digital subtraction of the Gmin·ΣV offset, else 0
  offsetQw: f32,    // Qw for the offset mapping's digital correction, else 0
  readVar: f32,     // noise.read.sigma²
  adcNoise: f32,    // adc.noise, in LSB
  analogNoise: f32, // analog.noise, relative to hi
  biasScale: f32,  // 1 to add the bias, 0 to leave it out (drift compensation measures without it)
}

const TM: u32 = {{TM}}u;
const NPL: u32 = {{NPL}}u;
const PC: u32 = {{PC}}u;
const T: u32 = {{T}}u;
const SIGNED: bool = {{SIGNED}};
const COLLAPSED: bool = {{COLLAPSED}};
const TRACE: bool = {{TRACE}};
const READ: u32 = {{READ}}u;      // 0 none, 1 additive, 2 proportional (needs the G² planes)
const GAIN: bool = {{GAIN}};
const ANALOGN: bool = {{ANALOGN}};
const ADCN: bool = {{ADCN}};
const NOISY: bool = READ != 0u || GAIN || ANALOGN || ADCN;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> xq: array<i32>;            // [.., K] signed quantized inputs
@group(0) @binding(2) var<storage, read> negFlags: array<u32>;      // [..] 1 if the vector needs the X⁻ pass
@group(0) @binding(3) var<storage, read> R: array<vec4<f32>>;       // [K, NPL, N4] conductance planes
@group(0) @binding(4) var<storage, read> consts: array<f32>;        // [NPL plane weights, NPL variance factors, nBlocks ranges]
@group(0) @binding(5) var<storage, read> ep: array<vec4<f32>>;      // [N4] weight scales, [N4] bias
@group(0) @binding(6) var<storage, read> Q: array<vec4<f32>>;       // [K, NPL, N4] read-noise variance planes (proportional)
@group(0) @binding(7) var<storage, read> gains: array<vec4<f32>>;   // [nBlocks, N4] 1 + analog gain error
@group(0) @binding(8) var<storage, read_write> Y: array<f32>;       // [rows, N]
@group(0) @binding(9) var<storage, read> sqStats: array<f32>;       // [.., 2, nBlocks, TK] Σ V² per vector (additive read noise)

{{PHILOX}}

fn magnitude(v: i32, ph: u32) -> u32 {
  return u32(select(max(v, 0), max(-v, 0), ph == 1u));
}

// Row voltage of cycle t: the t-th dacBits digit over Vm; collapsed dataflows drive Σ_t 2^(t·b)·V_t = u/Vm.
fn level(u: u32, t: u32) -> f32 {
  if (COLLAPSED) { return f32(u) * P.invVm; }
  return f32((u >> (t * P.dacBits)) & ((1u << P.dacBits) - 1u)) * P.invVm;
}

// Σ_t 4^(t·b)·V_t² of one input: the input side of an analog accumulation's read-noise variance.
fn levelSq(u: u32, t: u32) -> f32 {
  if (!COLLAPSED) { let l = level(u, t); return l * l; }
  var s = 0.0;
  for (var c = 0u; c < P.Tfull; c++) {
    let d = f32((u >> (c * P.dacBits)) & ((1u << P.dacBits) - 1u)) * P.invVm;
    let w = f32(1u << (c * P.dacBits));
    s += w * w * d * d;
  }
  return s;
}

fn adcLevels() -> f32 {
  if (SIGNED) { return f32((1u << (P.adcBits - 1u)) - 1u); }
  return f32((1u << P.adcBits) - 1u);
}

fn adc4(v: vec4<f32>, hi: f32) -> vec4<f32> {
  if (P.adcBits == 0u) { return v; }
  if (hi <= 0.0) { return vec4<f32>(0.0); }
  let L = adcLevels();
  let step = hi / L;
  let lo = select(0.0, -L, SIGNED);
  return clamp(round(v / step), vec4<f32>(lo), vec4<f32>(L)) * step;
}

// Gaussians for the 4 columns of col4: element lo counts column pairs (src/random/philox.ts).
fn normals4(lo: u32, hi: u32, stream: u32) -> vec4<f32> {
  let key = vec2<u32>(P.seed, P.chip);
  return vec4<f32>(normal2(vec4<u32>(lo, hi, P.layer, stream), key), normal2(vec4<u32>(lo + 1u, hi, P.layer, stream), key));
}

// Loop-local accumulators are zeroed with explicit `T()` initializers: on Dawn + lavapipe a bare
// `var x: T;` inside a loop body kept the previous iteration's value.
// SHARED: real GPUs want the input levels decoded once per workgroup into shared memory (KT rows of W
// at a time) instead of once per invocation; CPU drivers run faster without the barriers. Threads past
// the edges stay alive (clamped reads, guarded writes) so every barrier is reached uniformly.
const SHARED: bool = {{SHARED}};
const KT: u32 = {{KT}}u;
const ROWS_WG: u32 = {{WGY}}u * TM;
const WG_SIZE: u32 = {{WGX}}u * {{WGY}}u;
var<workgroup> tileLv: array<f32, {{TILE}}>;
var<workgroup> tileSq: array<f32, {{TILESQ}}>;
var<workgroup> wgNegA: atomic<u32>;
var<workgroup> wgNeg: u32;

@compute @workgroup_size({{WGX}}, {{WGY}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let col4 = gid.x;
  let r0 = gid.y * TM;
  let inRange = col4 < P.N4 && r0 < P.rows;
  {{EARLY_RETURN}}
  let colc = min(col4, P.N4 - 1u);

  var base = array<u32, TM>();
  var neg = array<bool, TM>();
  var anyNeg = false;
  for (var m = 0u; m < TM; m++) {
    let r = min(r0 + m, P.rows - 1u);
    base[m] = (P.rowStart + r) * P.K;
    neg[m] = negFlags[P.rowStart + r] != 0u;
    anyNeg = anyNeg || neg[m];
  }
  if (SHARED) {
    // The X⁻ pass runs for the whole workgroup if any of its vectors needs it (barriers stay uniform).
    if (anyNeg && inRange) { atomicOr(&wgNegA, 1u); }
    {{BARRIER}}
    if (li == 0u) { wgNeg = atomicLoad(&wgNegA); }
  }

  let TK = select(P.Tfull, 1u, COLLAPSED);
  var out = array<vec4<f32>, TM>();
  let passes = {{PASSES}};
  for (var ph = 0u; ph < passes; ph++) {
    for (var p = 0u; p < P.nBlocks; p++) {
      let k0 = p * P.blockRows;
      let k1 = min(P.K, k0 + P.blockRows);
      let hi = consts[2u * NPL + p];
      var blk = array<vec4<f32>, TM>();
      var sumU = array<f32, TM>();
      for (var t = 0u; t < T; t++) {
        var sumV = array<f32, TM>();
        var sumSq = array<f32, TM>();
        if (READ == 1u) {
          for (var m = 0u; m < TM; m++) {
            let r = min(r0 + m, P.rows - 1u);
            sumSq[m] = sqStats[(((P.rowStart + r) * 2u + ph) * P.nBlocks + p) * TK + t];
          }
        }
        for (var k = k0; k < k1; k++) {
          for (var m = 0u; m < TM; m++) {
            let u = magnitude(xq[base[m] + k], ph);
            sumV[m] += level(u, t);
            if (t == 0u) { sumU[m] += f32(u); }
          }
        }
        var wt = 1.0;
        if (!COLLAPSED) { wt = f32(1u << (t * P.dacBits)); }
        for (var c = 0u; c < NPL; c += PC) {
          var acc = array<vec4<f32>, {{TMPC}}>();
          var accQ = array<vec4<f32>, {{TMPCQ}}>();
          let kstep = select(k1 - k0, KT, SHARED);
          for (var kt = k0; kt < k1; kt += kstep) {
            if (SHARED) {
              {{BARRIER}}
              // A loop bound that depends on the invocation would make the barrier below non-uniform.
              for (var j = 0u; j < (KT * ROWS_WG + WG_SIZE - 1u) / WG_SIZE; j++) {
                let i = li + j * WG_SIZE;
                if (i < KT * ROWS_WG) {
                  let kk = i % KT;
                  let row = min(wid.y * ROWS_WG + i / KT, P.rows - 1u);
                  var v = 0.0;
                  var v2 = 0.0;
                  if (kt + kk < k1) {
                    let u = magnitude(xq[(P.rowStart + row) * P.K + kt + kk], ph);
                    v = level(u, t);
                    if (READ == 2u) { v2 = levelSq(u, t); }
                  }
                  tileLv[i] = v;
                  if (READ == 2u) { tileSq[i] = v2; }
                }
              }
              {{BARRIER}}
            }
            let kn = min(kstep, k1 - kt);
            for (var kk = 0u; kk < kn; kk++) {
              let k = kt + kk;
              var lv = array<f32, TM>();
              var lsq = array<f32, TM>();
              for (var m = 0u; m < TM; m++) {
                if (SHARED) {
                  let ti = (lid.y * TM + m) * KT + kk;
                  lv[m] = tileLv[ti];
                  if (READ == 2u) { lsq[m] = tileSq[ti]; }
                } else {
                  let u = magnitude(xq[base[m] + k], ph);
                  lv[m] = level(u, t);
                  if (READ == 2u) { lsq[m] = levelSq(u, t); }
                }
              }
              let rb = (k * NPL + c) * P.N4 + colc;
              for (var pc = 0u; pc < PC; pc++) {
                let g = R[rb + pc * P.N4];
                for (var m = 0u; m < TM; m++) { acc[pc * TM + m] = fma(vec4<f32>(lv[m]), g, acc[pc * TM + m]); }
                if (READ == 2u) {
                  let q = Q[rb + pc * P.N4];
                  for (var m = 0u; m < TM; m++) { accQ[pc * TM + m] = fma(vec4<f32>(lsq[m]), q, accQ[pc * TM + m]); }
                }
              }
            }
          }
          for (var pc = 0u; pc < PC; pc++) {
            let plane = c + pc;
            let w = wt * consts[plane];
            for (var m = 0u; m < TM; m++) {
              var i = acc[pc * TM + m];
              if (TRACE) {
                if (ph == 0u || neg[m]) { out[m] = max(out[m], abs(i)); }
                continue;
              }
              if (NOISY) {
                let hiC = 2u * (P.rowOffset + r0 + m) + ph;
                let lo = ((p * TK + t) * NPL + plane) * 2u * P.N4 + colc * 2u;
                if (READ == 1u) { i += sqrt(vec4<f32>(P.readVar * consts[NPL + plane] * sumSq[m])) * normals4(lo, hiC, 5u); }
                if (READ == 2u) { i += sqrt(P.readVar * accQ[pc * TM + m]) * normals4(lo, hiC, 5u); }
                if (GAIN) { i *= gains[p * P.N4 + colc]; }
                if (ANALOGN) { i += P.analogNoise * hi * normals4(lo, hiC, 7u); }
                if (ADCN) { i += P.adcNoise * (hi / adcLevels()) * normals4(lo, hiC, 6u); }
              }
              blk[m] += w * (adc4(i, hi) - vec4<f32>(P.gminSub * sumV[m]));
            }
          }
        }
      }
      if (!TRACE) {
        let sgn = select(1.0, -1.0, ph == 1u);
        for (var m = 0u; m < TM; m++) {
          if (ph == 0u || neg[m]) { out[m] += sgn * (blk[m] - vec4<f32>(P.offsetQw * sumU[m])); }
        }
      }
    }
  }
  if (!inRange) { return; }
  let j0 = col4 * 4u;
  for (var m = 0u; m < TM; m++) {
    if (r0 + m >= P.rows) { continue; }
    var y = out[m];
    if (!TRACE) { y = y * ep[col4] * P.outScale + P.biasScale * ep[P.N4 + col4]; }
    let o = (P.outRow + r0 + m) * P.N;
    for (var e = 0u; e < 4u; e++) {
      if (j0 + e < P.N) { Y[o + j0 + e] = y[e]; }
    }
  }
}
