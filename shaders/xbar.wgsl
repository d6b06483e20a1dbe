// Crossbar VMM (DESIGN.md section 3), one dispatch for every row block, cycle, slice and ph.
// Each invocation owns TM input vectors x 4 output columns. For every row block and input cycle it
// runs a small GEMM against NPL conductance "planes" (PC planes at a time, sharing one decode of the
// input bits), converts each current with the ADC in registers and shift-adds it, so currents never
// reach memory. In TRACE mode it records the largest |ADC input| instead (calibration).
struct Params {
  K: u32,          // rows of W
  N4: u32,         // output columns / 4
  rows: u32,       // input vectors in this dispatch
  rowOffset: u32,  // index of this dispatch's first vector in the whole input set
  blockRows: u32,  // array.rows
  nBlocks: u32,
  adcBits: u32,
  dacBits: u32,
  invVm: f32,      // 1 / (2^dacBits - 1)
  gminSub: f32,    // Gmin for digital subtraction of the Gmin·ΣV offset, else 0
  offsetQw: f32,   // Qw for the offset mapping's digital correction, else 0
  sx: f32,
}

const TM: u32 = {{TM}}u;
const NPL: u32 = {{NPL}}u;
const PC: u32 = {{PC}}u;
const T: u32 = {{T}}u;
const SIGNED: bool = {{SIGNED}};
const COLLAPSED: bool = {{COLLAPSED}};
const TRACE: bool = {{TRACE}};

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> xq: array<i32>;            // [rows, K] signed quantized inputs
@group(0) @binding(2) var<storage, read> negFlags: array<u32>;      // [rows] 1 if the vector needs the X- ph
@group(0) @binding(3) var<storage, read> R: array<vec4<f32>>;       // [K, NPL, N4] conductance planes
@group(0) @binding(4) var<storage, read> consts: array<f32>;        // [NPL plane weights, nBlocks ADC ranges]
@group(0) @binding(5) var<storage, read> sw: array<vec4<f32>>;      // [N4] weight scales
@group(0) @binding(6) var<storage, read_write> Y: array<vec4<f32>>; // [rows, N4]

fn magnitude(x: i32, ph: u32) -> u32 {
  return u32(select(max(x, 0), max(-x, 0), ph == 1u));
}

// Row voltage of cycle t: the t-th dacBits digit over Vm; collapsed dataflows drive Σ_t 2^(t·b)·V_t = u/Vm.
fn level(u: u32, t: u32) -> f32 {
  if (COLLAPSED) { return f32(u) * P.invVm; }
  return f32((u >> (t * P.dacBits)) & ((1u << P.dacBits) - 1u)) * P.invVm;
}

fn adc4(x: vec4<f32>, hi: f32) -> vec4<f32> {
  if (P.adcBits == 0u) { return x; }
  if (hi <= 0.0) { return vec4<f32>(0.0); }
  var L: f32;
  if (SIGNED) { L = f32((1u << (P.adcBits - 1u)) - 1u); } else { L = f32((1u << P.adcBits) - 1u); }
  let step = hi / L;
  let lo = select(0.0, -L, SIGNED);
  return clamp(round(x / step), vec4<f32>(lo), vec4<f32>(L)) * step;
}

// Loop-local accumulators are zeroed with explicit `T()` initializers: on Dawn + lavapipe a bare
// `var x: T;` inside a loop body kept the previous iteration's value.
@compute @workgroup_size({{WGX}}, {{WGY}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col4 = gid.x;
  let r0 = gid.y * TM;
  if (col4 >= P.N4 || r0 >= P.rows) { return; }

  var base: array<u32, TM>;
  var neg: array<bool, TM>;
  var anyNeg = false;
  for (var m = 0u; m < TM; m++) {
    let r = min(r0 + m, P.rows - 1u);
    base[m] = r * P.K;
    neg[m] = negFlags[r] != 0u;
    anyNeg = anyNeg || neg[m];
  }

  var out = array<vec4<f32>, TM>();
  let passes = select(1u, 2u, anyNeg);
  for (var ph = 0u; ph < passes; ph++) {
    for (var p = 0u; p < P.nBlocks; p++) {
      let k0 = p * P.blockRows;
      let k1 = min(P.K, k0 + P.blockRows);
      let hi = consts[NPL + p];
      var blk = array<vec4<f32>, TM>();
      var sumU = array<f32, TM>();
      for (var t = 0u; t < T; t++) {
        var sumV = array<f32, TM>();
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
          for (var k = k0; k < k1; k++) {
            var lv: array<f32, TM>;
            for (var m = 0u; m < TM; m++) { lv[m] = level(magnitude(xq[base[m] + k], ph), t); }
            let rb = (k * NPL + c) * P.N4 + col4;
            for (var pc = 0u; pc < PC; pc++) {
              let g = R[rb + pc * P.N4];
              for (var m = 0u; m < TM; m++) { acc[pc * TM + m] = fma(vec4<f32>(lv[m]), g, acc[pc * TM + m]); }
            }
          }
          for (var pc = 0u; pc < PC; pc++) {
            let w = wt * consts[c + pc];
            for (var m = 0u; m < TM; m++) {
              let i = acc[pc * TM + m];
              if (TRACE) {
                if (ph == 0u || neg[m]) { out[m] = max(out[m], abs(i)); }
              } else {
                blk[m] += w * (adc4(i, hi) - vec4<f32>(P.gminSub * sumV[m]));
              }
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
  for (var m = 0u; m < TM; m++) {
    if (r0 + m < P.rows) {
      if (TRACE) { Y[(r0 + m) * P.N4 + col4] = out[m]; } else { Y[(r0 + m) * P.N4 + col4] = out[m] * sw[col4] * P.sx; }
    }
  }
}
