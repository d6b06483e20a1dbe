// The `calibrated` ADC range of one crossbar matrix at exact levels (DESIGN.md section 3): the largest
// |ADC input| of the noise-free chip over a set of f32 input vectors. It forms only the integer sums
// the crossbar kernel's TRACE mode forms (shaders/xbar-bitplane.wgsl), with no noise, ADC or
// shift-and-add, and no output tensor: each invocation folds its currents into one atomicMax.
//
// `pack`: one invocation per (vector, 32-row word) reads the word's f32 inputs straight from the layer's
//   input (rows [n, K], or with CONV the NCHW input through im2col's index map, so no im2col matrix is
//   written), quantizes them as shaders/quantize.wgsl does and writes both passes' bit planes in
//   shaders/bitpack.wgsl's layout, bits [rows, 2, INBITS, P.wordsTotal].
// `reduce`: one invocation per (vector, vec4 of columns), the columns in gid.y so that a workgroup's
//   plane loads are uniform; for every pass, row block, plane and input cycle
//     U = Σ_i 2^i·popcount(x_i),  D = Σ_i Σ_b 2^(i+b)·popcount(x_i & w_b) − eOff·U   (u32, wrapping)
//   and the current (D·ΔG + U·off)/Vm by the crossbar kernel's own expression (exactCurrent), so the
//   maximum is the trace's bit for bit. A cycle whose input sum U times the plane digits' bound
//   (P.bound) stays below a maximum already reached is skipped: it cannot raise the result, so the
//   result never depends on the order invocations run in. A vector with no negative input (negs[row] = 0, set by `pack`)
//   has an all-zero X⁻ pass, whose currents are 0: it is skipped.
// Non-negative f32 values order as their u32 bits: atomicMax on the bits is the f32 maximum.
// Loops over constants only index the private arrays (CPU drivers keep them in registers then).
// Params, the bindings X, bits, negs, R, hi and the constants WBITS, INBITS, CB, TC, COLLAPSED, NPL, CONV, WG
// are generated from src/kernels/adc-max.ts.

fn exactCurrent(se: vec4<i32>, su: u32) -> vec4<f32> {
  return (vec4<f32>(se) * P.exDG + vec4<f32>(f32(su) * P.exOff)) * P.invVm;
}

fn quantize(x: f32) -> u32 {
  return u32(i32(clamp(round(abs(x) * P.invSx), 0.0, P.Qx)));
}

@compute @workgroup_size({{WG}})
fn pack(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.count) { return; }
  let w = i % P.wordsTotal;
  let row = i / P.wordsTotal;
  let v = P.row0 + row;
  let p = w / P.blockWords;
  let k0 = p * P.blockRows + (w % P.blockWords) * 32u;
  let k1 = min(min(k0 + 32u, (p + 1u) * P.blockRows), P.K);
  var pos = array<u32, INBITS>();
  var neg = array<u32, INBITS>();
  // CONV: vector v = (b, oh, ow), row k = (ci, ki, kj) walked from k0.
  var b = 0u;
  var ih0 = 0;
  var iw0 = 0;
  var c = vec3<u32>(0u);
  if (CONV) {
    b = v / P.plane;
    let pix = v % P.plane;
    ih0 = i32((pix / P.OW) * P.sh) - P.pt;
    iw0 = i32((pix % P.OW) * P.sw) - P.pl;
    let t = k0 / P.kw;
    c = vec3<u32>(t / P.kh, t % P.kh, k0 % P.kw);
  }
  for (var k = k0; k < k1; k++) {
    var x = 0.0;
    if (CONV) {
      let ih = ih0 + i32(c.y * P.dh);
      let iw = iw0 + i32(c.z * P.dw);
      if (ih >= 0 && ih < i32(P.H) && iw >= 0 && iw < i32(P.W)) {
        x = X[P.x_shift + ((b * P.cin + P.chan0 + c.x) * P.H + u32(ih)) * P.W + u32(iw)];
      }
      c.z += 1u;
      if (c.z == P.kw) { c.z = 0u; c.y += 1u; }
      if (c.y == P.kh) { c.y = 0u; c.x += 1u; }
    } else {
      x = X[P.x_shift + v * P.K + k];
    }
    let q = quantize(x);
    // shaders/quantize.wgsl: a negative input with a non-zero code belongs to the X⁻ pass.
    let isNeg = x < 0.0;
    let up = select(q, 0u, isNeg);
    let un = select(0u, q, isNeg);
    let r = k - k0;
    for (var bit = 0u; bit < INBITS; bit++) {
      pos[bit] |= ((up >> bit) & 1u) << r;
      neg[bit] |= ((un >> bit) & 1u) << r;
    }
  }
  var anyNeg = 0u;
  for (var bit = 0u; bit < INBITS; bit++) { anyNeg |= neg[bit]; }
  if (anyNeg != 0u) { atomicOr(&negs[row], 1u); }
  let o = row * 2u * INBITS * P.wordsTotal + w;
  for (var bit = 0u; bit < INBITS; bit++) {
    bits[o + bit * P.wordsTotal] = pos[bit];
    bits[o + (INBITS + bit) * P.wordsTotal] = neg[bit];
  }
}

@compute @workgroup_size({{WG}})
fn reduce(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let row = gid.x;
  // From the workgroup id, so the compiler sees every plane load as uniform (one load, not one per lane).
  let col4 = wid.y;
  if (row >= P.count) { return; }
  let j0 = col4 * 4u;
  let valid = vec4<u32>(j0) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(P.N);
  var m = 0.0;
  let passes = select(1u, 2u, atomicLoad(&negs[row]) != 0u);
  for (var ph = 0u; ph < passes; ph++) {
    let base = (row * 2u + ph) * INBITS * P.wordsTotal;
    for (var p = 0u; p < P.nBlocks; p++) {
      for (var t = 0u; t < TC; t++) {
        // |D| ≤ eMax·U, so U·P.bound bounds every current of this cycle from above (P.bound carries a
        // margin past f32 rounding): a cycle below a maximum already reached cannot change the result.
        var su = 0u;
        for (var wi = 0u; wi < P.blockWords; wi++) {
          for (var ii = 0u; ii < CB; ii++) { su += countOneBits(bits[base + (t * CB + ii) * P.wordsTotal + p * P.blockWords + wi]) << ii; }
        }
        if (f32(su) * P.bound < max(m, bitcast<f32>(atomicLoad(&hi[0])))) { continue; }
        for (var pl = 0u; pl < NPL; pl++) {
          var acc = vec4<u32>(0u);
          for (var wi = 0u; wi < P.blockWords; wi++) {
            let w = p * P.blockWords + wi;
            let wb = ((w * NPL + pl) * WBITS) * P.N4 + col4;
            for (var ii = 0u; ii < CB; ii++) {
              let xv = bits[base + (t * CB + ii) * P.wordsTotal + w];
              if (xv == 0u) { continue; }
              let x4 = vec4<u32>(xv);
              for (var j = 0u; j < WBITS; j++) { acc += countOneBits(x4 & bitcast<vec4<u32>>(R[wb + j * P.N4])) << vec4<u32>(ii + j); }
            }
          }
          let d = bitcast<vec4<i32>>(acc - vec4<u32>(P.eOff * su));
          let a = select(vec4<f32>(0.0), abs(exactCurrent(d, su)), valid);
          m = max(m, max(max(a.x, a.y), max(a.z, a.w)));
        }
      }
      // Published per row block, so that other invocations' bounds prune against it early.
      atomicMax(&hi[0], bitcast<u32>(m));
    }
  }
}
