// Crossbar VMM (DESIGN.md sections 3 and 4), one dispatch for every row block, cycle, slice and pass.
// Each invocation owns TM input vectors x 4 output columns. For every row block and input cycle it
// runs a small GEMM against NPL conductance "planes" (PC planes at a time, sharing one decode of the
// input bits), adds per-read noise, converts each current with the ADC in registers and shift-adds it,
// so currents never reach memory. In TRACE mode it records the largest |ADC input| instead (calibration).
// Inputs arrive quantized by shaders/quantize.wgsl (once per run, on the GPU, so a network's
// activations never leave it), with a per-vector flag for the X⁻ pass.
//
// A dispatch covers one column slice of the layer: P.N4 vec4 columns from P.col4Offset (planes, ep and
// gains hold only the slice), writing Y [rows, P.N] from element P.outBase of its binding; noise
// counters use the column's place in the whole layer (P.pairs = 2·ceil(N/4)), so slicing a layer
// that exceeds one storage binding changes no draw.
//
// This file is both variants' body. Each variant's own source defines the entry point `main` and
// where the input levels come from:
//   passCount(anyNeg, inRange, li) -> u32   1, or 2 when the X⁻ pass runs
//   tileDepth(k0, k1) -> u32                input rows per k-tile
//   stageTile(kt, k1, t, ph, wgRow, li)     makes rows [kt, kt + tileDepth) available
//   levelsAt(xIndex, tileIndex, t, ph)      (level, level² term) of one input at cycle t
// shaders/xbar-registers.wgsl decodes in registers and shaders/xbar-bitplane.wgsl reads packed bit
// planes (both launched by shaders/xbar-unstaged.wgsl: CPU drivers, no barriers); shaders/xbar-shared.wgsl
// stages KT rows per workgroup in shared memory (real GPUs). Per-vector sums come from the row
// statistics (rowStats, shaders/row-stats.wgsl).
// Params, the bindings and the constants TM, NPL, PC, T, SIGNED, COLLAPSED, TRACE, READ (0 none,
// 1 additive, 2 proportional: needs the G² planes; with DEVREAD the planes hold a device model's σ² and
// the draws come from stream deviceRead), APPROX (circuit.model "approx": P.partRows, P.rColNorm; PAIRS: on both polarities of a difference plane; SERIAL: a collapsed dataflow run cycle by cycle, for NSA or APPROX), GAIN, ANALOGN, ADCN, SHARED, KT, WGX, WGY,
// EXACT, EXACTF, EXACTD, IDEAL, WBITS are
// generated from src/kernels/xbar-kernel.ts; STREAM_* and the counter layout from src/random/philox.ts.

const NOISY: bool = READ != 0u || GAIN || ANALOGN || ADCN;
// NNS+A (NSA, src/readout/neural-sa.ts): a collapsed dataflow whose cycles run bit-serially, each
// plane's partial sums accumulating in analog with its chain's coefficient c_t, converted once after
// the last cycle (ANALOG_SA: the slices first combined with their coefficients c_s, one conversion).
const NSAJ: u32 = select(1u, TM * NPL, SERIAL);
// analog-sa NNS+A with proportional read noise keeps each slice's Σ_k V²·G² for the one conversion.
const NSAQON: bool = NSA && ANALOG_SA && READ == 2u;
const NSAQ: u32 = select(1u, TM * NPL, NSAQON);
const TMPC: u32 = TM * PC;
// G² accumulators exist only for proportional read noise.
const TMPCQ: u32 = select(1u, TM * PC, READ == 2u);
// Distance-weighted currents exist only for the IR-drop approximation.
const TMPCW: u32 = select(1u, TM * PC, APPROX);
// PAIRS (the approximation on a difference dataflow): R holds each logical plane's two polarities
// side by side (2·NPL cell planes), each its own physical column line, subtracted after the drop.
const RF: u32 = select(1u, 2u, PAIRS);
const TMPCN: u32 = select(1u, TM * PC, PAIRS);
const ROWS_WG: u32 = WGY * TM;
// IDEAL (src/kernels/bitplane.ts idealGap): an ideal ADC, no per-read noise and exact levels make a row
// block's output the integer Σ_k u_k·E_k of the stored weights. Every variant then sums the plane dots
// with their integer weights in i32 and converts once, so the collapsed one-plane fast path and the
// bit-serial variants give the same f32 (the currents' float ops would each round their own way).
const TMI: u32 = select(1u, TM, IDEAL);
const WG_SIZE: u32 = WGX * WGY;

fn magnitude(v: i32, ph: u32) -> u32 {
  return u32(select(max(v, 0), max(-v, 0), ph == 1u));
}

// Row voltage of cycle t: the t-th dacBits digit over Vm; collapsed dataflows drive Σ_t 2^(t·b)·V_t = u/Vm.
fn level(u: u32, t: u32) -> f32 {
  if (COLLAPSED && !SERIAL) { return f32(u) * P.invVm; }
  return f32((u >> (t * P.dacBits)) & ((1u << P.dacBits) - 1u)) * P.invVm;
}

// EXACT (src/kernels/bitplane.ts): with conductances at exact levels, a plane's column current is
// (ΔG·Σ_k u_k·e_k + off·Σ_k u_k)/Vm for the cycle's integer inputs u and the plane's integer digits e.
// Both sums are formed in integers and combined once here, so the general and the bit-plane variants
// produce the same f32 from the same two integers (an f32 running sum would depend on the order).
// The cycle's input bits: (first bit, count); collapsed dataflows drive all P.inBits bits at once.
fn cycleBits(t: u32) -> vec2<u32> {
  if (COLLAPSED && !SERIAL) { return vec2<u32>(0u, P.inBits); }
  return vec2<u32>(t * P.dacBits, P.dacBits);
}

fn bitMask(n: u32) -> u32 {
  return select((1u << n) - 1u, 0xffffffffu, n >= 32u);
}

fn exactCurrent(se: vec4<i32>, su: u32) -> vec4<f32> {
  return (vec4<f32>(se) * P.exDG + vec4<f32>(f32(su) * P.exOff)) * P.invVm;
}

// The integer sums Σ_k of one vector's cycle-c input bits (c = P.sumCycles: Σ_k u), from the row
// statistics (shaders/row-stats.wgsl): every variant reads the same integers.
fn exactInput(row: u32, ph: u32, p: u32, c: u32) -> u32 {
  return rowStats[P.sumBase + ((row * 2u + ph) * P.nBlocks + p) * (P.sumCycles + 1u) + c];
}

// EXACTF: every partial sum stays below 2^24, so f32 multiply-adds of the integers are exact (and on
// CPU drivers much cheaper than i32 vector multiplies); the result is the same integer.
fn exactDotsLoop(rows: array<u32, TM>, ph: u32, k0: u32, k1: u32, cb: vec2<u32>, plane: u32, colc: u32) -> array<vec4<i32>, TM> {
  let mask = bitMask(cb.y);
  var d = array<vec4<i32>, TM>();
  if (EXACTF) {
    var f = array<vec4<f32>, TM>();
    for (var k = k0; k < k1; k++) {
      let e = R[(k * NPL + plane) * P.N4 + colc];
      for (var m = 0u; m < TM; m++) {
        // EXACTD: xq holds each pass's magnitudes as f32 [rows, 2, K] (shaders/quantize.wgsl DECODE), the
        // whole of a collapsed cycle's input: the loop is then a plain GEMM's.
        var u = 0.0;
        if (EXACTD) { u = bitcast<f32>(xq[(rows[m] * 2u + ph) * P.K + k]); }
        else { u = f32((magnitude(xq[rows[m] * P.K + k], ph) >> cb.x) & mask); }
        f[m] = fma(vec4<f32>(u), e, f[m]);
      }
    }
    for (var m = 0u; m < TM; m++) { d[m] = vec4<i32>(f[m]); }
    return d;
  }
  for (var k = k0; k < k1; k++) {
    let e = vec4<i32>(R[(k * NPL + plane) * P.N4 + colc]);
    for (var m = 0u; m < TM; m++) {
      let u = i32((magnitude(xq[rows[m] * P.K + k], ph) >> cb.x) & mask);
      d[m] += u * e;
    }
  }
  return d;
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

// Segment of u among each lane's instance's increasing breakpoints (how many are ≤ u, as
// src/readout/transfer.ts segmentOf), then that segment's value: every non-uniform ADC model reduces to
// such a table per converter instance (nonlinear and neural per chip, drawn on the host from
// READOUT_STREAM). A uniform grid of cells (src/readout/tables.ts CellIndex) gives the count below u's
// cell in one read; at most P.adcCorr breakpoints inside the cell remain to compare, so a lookup is a
// few reads where a binary search took log2(M + 1) rounds. A counting converter's value is the count.
fn tables4(u: vec4<f32>, inst: vec4<u32>) -> vec4<f32> {
  let b0 = inst * P.adcM;
  let cell = vec4<u32>(clamp(vec4<i32>(floor(u * P.adcCellScale)) - vec4<i32>(P.adcCellOrigin), vec4<i32>(0), vec4<i32>(i32(P.adcCells) - 1)));
  let ci = vec4<u32>(P.adcCellBase) + inst * P.adcCells + cell;
  var lo = vec4<u32>(vec4<f32>(adcT[ci.x], adcT[ci.y], adcT[ci.z], adcT[ci.w]));
  for (var it = 0u; it < P.adcCorr; it++) {
    let at = b0 + min(lo, vec4<u32>(P.adcM - 1u));
    let bp = vec4<f32>(adcT[at.x], adcT[at.y], adcT[at.z], adcT[at.w]);
    lo += select(vec4<u32>(0u), vec4<u32>(1u), (lo < vec4<u32>(P.adcM)) & (bp <= u));
  }
  if (P.adcCounting != 0u) { return vec4<f32>(P.adcCountBase) + vec4<f32>(lo); }
  let v = vec4<u32>(P.adcVBase) + inst * (P.adcM + 1u) + lo;
  return vec4<f32>(adcT[v.x], adcT[v.y], adcT[v.z], adcT[v.w]);
}

// The ADC of channel f = j·NPL + plane of row block p (src/readout/layer.ts): uniform (section 3), or
// instance p·groups + floor(f / groupSize)'s transfer table in LSB of the block's range.
fn convert4(v: vec4<f32>, hi: f32, p: u32, plane: u32, col4: u32, planes: u32) -> vec4<f32> {
  if (!ADCT) { return adc4(v, hi); }
  if (hi <= 0.0) { return vec4<f32>(0.0); }
  let step = hi / adcLevels();
  let j = vec4<u32>((P.col4Offset + col4) * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
  let inst = min(vec4<u32>(p * P.adcGroups) + (j * planes + vec4<u32>(plane)) / P.adcGroupSize, vec4<u32>(P.adcInst - 1u));
  return tables4(v / step, inst) * step;
}

// The near-memory fixed-point unit (src/readout/digital.ts DigitalUnit.code): y = round(m_j·A·2^−e + o_j)
// by the unit's rounding, ReLU, saturate or wrap to the output code range, times the output LSB.
fn digital4(a: vec4<f32>, j0: u32) -> vec4<f32> {
  var r = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) {
    let j = min(j0 + e, P.N - 1u);
    if (DIG_EXACT) { r[e] = f32(digitalExact(a[e], j)) * P.digOut; continue; }
    let x = consts[P.digBase + j] * a[e] * P.digShift + consts[P.digBase + P.N + j];
    var y = 0.0;
    if (DIG == 1u) { y = round(x); }
    else if (DIG == 2u) { y = floor(x + 0.5); }
    else if (DIG == 3u) { y = floor(x); }
    else { y = trunc(x); }
    if (DIG_RELU) { y = max(y, 0.0); }
    if (DIG_SAT) { y = clamp(y, P.digLo, P.digHi); }
    else {
      let span = P.digHi - P.digLo + 1.0;
      let d = y - P.digLo;
      y = d - span * floor(d / span) + P.digLo;
    }
    r[e] = y * P.digOut;
  }
  return r;
}

// The unit's output code in exact integer arithmetic (DIG_EXACT: a scale or offset format wider than
// f32's 24 bits): m_j = ±M·2^−fs and o_j = ±O·2^−fo arrive as 16-bit halves (sign in bit 16 of the
// high one), the f32 accumulator as a·2^ea (a its 24-bit mantissa), so that
//   X·2^Fb = ±M·a·2^(ea − fs − e + Fb) ± 2·O,  Fb = fo + 1,
// is a 64-bit integer S plus a fraction δ in [0, 1) of whose bits only "δ > 0" is kept (sticky). With
// one guard bit below the offset's, S and the sticky bit decide every rounding mode as f64 does on the
// same A (a tie is S ≡ 2^(Fb−1) mod 2^Fb with δ = 0). |X| is exact below 2^(61 − Fb); beyond it
// saturates (the code range is at most 16 bits).
fn digitalExact(a: f32, j: u32) -> i32 {
  let at = P.digBase + 4u * j;
  let mh = u32(consts[at]);
  let oh = u32(consts[at + 2u]);
  let M = ((mh & 0xffffu) << 16u) | u32(consts[at + 1u]);
  let O = ((oh & 0xffffu) << 16u) | u32(consts[at + 3u]);
  let fr = frexp(abs(a));
  let prod = mul32x32(M, u32(fr.fract * 16777216.0));
  let sh = fr.exp - 24 + P.digSh;
  var t = vec2<u32>(0u);
  var sticky = false;
  if (prod.x != 0u || prod.y != 0u) {
    if (sh >= 0) {
      if (i32(bitLength64(prod)) + sh > 61) { t = vec2<u32>(0u, 1u << 29u); }
      else { t = shl64(prod, u32(sh)); }
    } else if (sh <= -64) {
      sticky = true;
    } else {
      t = shr64(prod, u32(-sh));
      let back = shl64(t, u32(-sh));
      sticky = back.x != prod.x || back.y != prod.y;
    }
  }
  // floor(T·2^Fb): a negative product with bits below the grid rounds down one more.
  if ((a < 0.0) != ((mh & 0x10000u) != 0u)) {
    t = neg64(t);
    if (sticky) { t = add64(t, vec2<u32>(0xffffffffu)); }
  }
  var o = shl64(vec2<u32>(O, 0u), 1u);
  if ((oh & 0x10000u) != 0u) { o = neg64(o); }
  let S = add64(t, o);
  let fb = P.digFb;
  let fl = sar64(S, fb);
  let mask = shr64(vec2<u32>(0xffffffffu), 64u - fb);
  let f = S & mask;
  let half = shl64(vec2<u32>(1u, 0u), fb - 1u);
  let exactInt = f.x == 0u && f.y == 0u && !sticky;
  var up = false;
  if (DIG == 1u) {
    let isHalf = f.x == half.x && f.y == half.y;
    up = ltU64(half, f) || (isHalf && (sticky || (fl.x & 1u) == 1u));
  } else if (DIG == 2u) {
    up = !ltU64(f, half);
  } else if (DIG == 4u) {
    up = isNeg64(S) && !exactInt;
  }
  var y = add64(fl, vec2<u32>(select(0u, 1u, up), 0u));
  if (DIG_RELU && isNeg64(y)) { y = vec2<u32>(0u); }
  let lo = i32(P.digLo);
  let hi = i32(P.digHi);
  if (DIG_SAT) {
    if (ltS64(y, fromI32(lo))) { return lo; }
    if (ltS64(fromI32(hi), y)) { return hi; }
    return bitcast<i32>(y.x);
  }
  // Wrap-around: the low bits of y − lo, the span being a power of two.
  let span = u32(hi - lo) + 1u;
  return bitcast<i32>((y.x - bitcast<u32>(lo)) & (span - 1u)) + lo;
}

// NNS+A coefficients of the four columns of col4 (whole-layer columns, clamped at the edge): cycle t of
// slice s, [nBlocks, S, N, T]; slice s, [nBlocks, N, S] from P.nsaSliceBase.
fn nsaCycle4(p: u32, s: u32, col4: u32, t: u32) -> vec4<f32> {
  let j = min(vec4<u32>((P.col4Offset + col4) * 4u) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(P.N - 1u));
  let i = vec4<u32>(P.nsaBase) + ((vec4<u32>((p * NPL + s) * P.N) + j) * P.Tfull) + vec4<u32>(t);
  return vec4<f32>(adcT[i.x], adcT[i.y], adcT[i.z], adcT[i.w]);
}

fn nsaSlice4(p: u32, s: u32, col4: u32) -> vec4<f32> {
  let j = min(vec4<u32>((P.col4Offset + col4) * 4u) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(P.N - 1u));
  let i = vec4<u32>(P.nsaBase + P.nsaSliceBase) + (vec4<u32>(p * P.N) + j) * NPL + vec4<u32>(s);
  return vec4<f32>(adcT[i.x], adcT[i.y], adcT[i.z], adcT[i.w]);
}

// Gaussians for the 4 columns of a col4: element lo counts column pairs (src/random/philox.ts).
fn normals4(lo: u32, hi: u32, stream: u32) -> vec4<f32> {
  let key = vec2<u32>(P.seed, P.chip);
  return vec4<f32>(normal2(perReadCounter(lo, hi, P.layer, stream), key), normal2(perReadCounter(lo + 1u, hi, P.layer, stream), key));
}

// Loop-local accumulators are zeroed with explicit `T()` initializers: on Dawn + lavapipe a bare
// `var x: T;` inside a loop body kept the previous iteration's value.
// Threads past the edges stay alive (clamped reads, guarded writes) so that a variant with barriers
// reaches every one of them uniformly.
fn vmm(gid: vec3<u32>, lid: vec3<u32>, li: u32, wid: vec3<u32>) {
  let col4 = gid.x;
  let r0 = gid.y * TM;
  let inRange = col4 < P.N4 && r0 < P.rows;
  let colc = min(col4, P.N4 - 1u);

  var base = array<u32, TM>();
  var rowsG = array<u32, TM>();
  var neg = array<bool, TM>();
  var anyNeg = false;
  for (var m = 0u; m < TM; m++) {
    let r = min(r0 + m, P.rows - 1u);
    rowsG[m] = P.rowStart + r;
    base[m] = (P.rowStart + r) * P.K;
    neg[m] = negFlags[P.rowStart + r] != 0u;
    anyNeg = anyNeg || neg[m];
  }
  let passes = passCount(anyNeg, inRange, li);

  let TK = select(P.Tfull, 1u, COLLAPSED);
  var out = array<vec4<f32>, TM>();
  for (var ph = 0u; ph < passes; ph++) {
    for (var p = 0u; p < P.nBlocks; p++) {
      let k0 = p * P.blockRows;
      let k1 = min(P.K, k0 + P.blockRows);
      let hi = consts[2u * NPL + p];
      var blk = array<vec4<f32>, TM>();
      var sumU = array<f32, TM>();
      var J = array<vec4<f32>, NSAJ>();
      var JQ = array<vec4<f32>, NSAQ>();
      var D = array<vec4<i32>, TMI>();
      // NNS+A runs its cycles from a uniform: a constant count would unroll the whole nest T times.
      let TL = select(T, P.Tfull, SERIAL);
      for (var t = 0u; t < TL; t++) {
        var sumV = array<f32, TM>();
        var sumSq = array<f32, TM>();
        if (READ == 1u) {
          for (var m = 0u; m < TM; m++) {
            let r = min(r0 + m, P.rows - 1u);
            sumSq[m] = bitcast<f32>(rowStats[(((P.rowStart + r) * 2u + ph) * P.nBlocks + p) * TK + select(t, 0u, COLLAPSED)]);
          }
        }
        var sumI = array<u32, TM>();
        let cb = cycleBits(t);
        if (EXACT) {
          for (var m = 0u; m < TM; m++) {
            sumI[m] = exactInput(rowsG[m], ph, p, t);
            sumV[m] = f32(sumI[m]) * P.invVm;
            if (t == 0u) { sumU[m] = f32(exactInput(rowsG[m], ph, p, P.sumCycles)); }
          }
        } else {
          for (var k = k0; k < k1; k++) {
            for (var m = 0u; m < TM; m++) {
              let u = magnitude(xq[base[m] + k], ph);
              sumV[m] += level(u, t);
              if (t == 0u) { sumU[m] += f32(u); }
            }
          }
        }
        var wt = 1.0;
        if (!COLLAPSED || SERIAL) { wt = f32(1u << (t * P.dacBits)); }
        for (var c = 0u; c < NPL; c += PC) {
          var acc = array<vec4<f32>, TMPC>();
          var accQ = array<vec4<f32>, TMPCQ>();
          // APPROX: each horizontal partition of the row block is its own column line (aihwkit's IR-drop
          // approximation, src/circuits/approx.ts); without it the block is one partition, summed exactly.
          let pr = select(k1 - k0, P.partRows, APPROX);
          if (EXACT) {
            for (var pc = 0u; pc < PC; pc++) {
              let d = exactDots(rowsG, sumI, ph, p, k0, k1, cb, c + pc, colc);
              if (IDEAL) {
                // consts[plane] = ±2^(s·c)·Vm/ΔG: times ΔG/Vm it rounds back to the exact integer weight. The ideal
                // layout's one plane reads consts[0], the layer's own plane 0 (+Vm/ΔG in every layout); its
                // `hi` slot is not the layer's, but IDEAL never converts.
                let wi = i32(round(consts[c + pc] * P.exDG * P.invVm)) * i32(round(wt));
                for (var m = 0u; m < TM; m++) { D[m] += wi * d[m]; }
                continue;
              }
              for (var m = 0u; m < TM; m++) { acc[pc * TM + m] = exactCurrent(d[m], sumI[m]); }
            }
            if (IDEAL) { continue; }
          }
          for (var a0 = k0; a0 < select(k1, k0, EXACT); a0 += pr) {
            let a1 = min(k1, a0 + pr);
            var part = array<vec4<f32>, TMPC>();
            var partW = array<vec4<f32>, TMPCW>();
            var partN = array<vec4<f32>, TMPCN>();
            var partWN = array<vec4<f32>, TMPCN>();
            let nRows = f32(a1 - a0);
            let kstep = tileDepth(a0, a1);
            for (var kt = a0; kt < a1; kt += kstep) {
              stageTile(kt, a1, t, ph, wid.y, li);
              let kn = min(kstep, a1 - kt);
              for (var kk = 0u; kk < kn; kk++) {
                let k = kt + kk;
                var lv = array<f32, TM>();
                var lsq = array<f32, TM>();
                for (var m = 0u; m < TM; m++) {
                  let l = levelsAt(base[m] + k, (lid.y * TM + m) * KT + kk, t, ph);
                  lv[m] = l.x;
                  lsq[m] = l.y;
                }
                // 1 − p² with p = (row within the partition + 1)/n: the drop's weight by distance from ground.
                let pk = f32(k - a0 + 1u) / nRows;
                let wd = 1.0 - pk * pk;
                let rb = (k * NPL * RF + c * RF) * P.N4 + colc;
                for (var pc = 0u; pc < PC; pc++) {
                  let ri = rb + pc * RF * P.N4;
                  let g = R[ri];
                  for (var m = 0u; m < TM; m++) { part[pc * TM + m] = fma(vec4<f32>(lv[m]), g, part[pc * TM + m]); }
                  if (APPROX) {
                    for (var m = 0u; m < TM; m++) { partW[pc * TM + m] = fma(vec4<f32>(lv[m] * wd), g, partW[pc * TM + m]); }
                  }
                  if (PAIRS) {
                    let gn = R[ri + P.N4];
                    for (var m = 0u; m < TM; m++) {
                      partN[pc * TM + m] = fma(vec4<f32>(lv[m]), gn, partN[pc * TM + m]);
                      partWN[pc * TM + m] = fma(vec4<f32>(lv[m] * wd), gn, partWN[pc * TM + m]);
                    }
                  }
                  if (READ == 2u) {
                    var q = Q[ri];
                    if (PAIRS) { q += Q[ri + P.N4]; }
                    for (var m = 0u; m < TM; m++) { accQ[pc * TM + m] = fma(vec4<f32>(lsq[m]), q, accQ[pc * TM + m]); }
                  }
                }
              }
            }
            if (APPROX) {
              for (var e = 0u; e < TMPC; e++) {
                let A = nRows * P.rColNorm * part[e];
                acc[e] += part[e] - A * (A * (0.05 * A - 0.2) + 0.5) * partW[e];
                if (PAIRS) {
                  let An = nRows * P.rColNorm * partN[e];
                  acc[e] -= partN[e] - An * (An * (0.05 * An - 0.2) + 0.5) * partWN[e];
                }
              }
            } else {
              acc = part;
            }
          }
          for (var pc = 0u; pc < PC; pc++) {
            let plane = c + pc;
            let w = select(wt, 1.0, SERIAL) * consts[plane];
            for (var m = 0u; m < TM; m++) {
              var i = acc[pc * TM + m];
              if (SERIAL) {
                var coef = vec4<f32>(1.0);
                if (NSA) { coef = nsaCycle4(p, plane, colc, t); }
                J[plane * TM + m] += wt * coef * i;
                // The collapsed levelSq already sums every cycle: any cycle's accQ is the whole one.
                if (NSAQON) { JQ[plane * TM + m] = accQ[pc * TM + m]; }
                if (ANALOG_SA || t + 1u < TL) { continue; }
                i = J[plane * TM + m];
              }
              if (TRACE) {
                if (ph == 0u || neg[m]) { out[m] = max(out[m], abs(i)); }
                continue;
              }
              // Per-read noise in the normative order: read, analog gain, analog noise, ADC input noise.
              if (NOISY) {
                let hiC = perReadHi(P.rowOffset + r0 + m, ph);
                let lo = perReadLo(p, select(t, 0u, COLLAPSED), plane, P.col4Offset + colc, TK, NPL, P.pairs);
                if (READ == 1u) { i += sqrt(vec4<f32>(P.readVar * consts[NPL + plane] * sumSq[m])) * normals4(lo, hiC, STREAM_READ); }
                if (READ == 2u) { i += sqrt(P.readVar * accQ[pc * TM + m]) * normals4(lo, hiC, select(STREAM_READ, STREAM_DEVICE_READ, DEVREAD)); }
                if (GAIN) { i *= gains[p * P.N4 + colc]; }
                if (ANALOGN) { i += P.analogNoise * hi * normals4(lo, hiC, STREAM_ANALOG); }
                if (ADCN) { i += P.adcNoise * (hi / adcLevels()) * normals4(lo, hiC, STREAM_ADC); }
              }
              blk[m] += w * (convert4(i, hi, p, plane, colc, NPL) - vec4<f32>(P.gminSub * sumV[m]));
            }
          }
        }
        // analog-sa NNS+A: the slice chain Σ_s 2^(s·c)·c_s·J_s, one conversion (one ADC plane) per column.
        if (SERIAL && ANALOG_SA && t + 1u == TL) {
          for (var m = 0u; m < TM; m++) {
            var i = vec4<f32>(0.0);
            for (var s = 0u; s < NPL; s++) {
              var coef = vec4<f32>(1.0);
              if (NSA) { coef = nsaSlice4(p, s, colc); }
              i += f32(1u << (s * P.cellBits)) * coef * J[s * TM + m];
            }
            if (TRACE) {
              if (ph == 0u || neg[m]) { out[m] = max(out[m], abs(i)); }
              continue;
            }
            if (NOISY) {
              let hiC = perReadHi(P.rowOffset + r0 + m, ph);
              let lo = perReadLo(p, 0u, 0u, P.col4Offset + colc, 1u, 1u, P.pairs);
              if (READ == 1u) { i += sqrt(vec4<f32>(P.readVar * P.nsaVar * sumSq[m])) * normals4(lo, hiC, STREAM_READ); }
              // Proportional: Σ_s 4^(s·c)·Σ_k V²·(G+² + G−²), the reference's variance with section 4's ideal weights.
              if (READ == 2u) {
                var q = vec4<f32>(0.0);
                for (var s = 0u; s < NPL; s++) {
                  let ws = f32(1u << (s * P.cellBits));
                  q += ws * ws * JQ[s * TM + m];
                }
                i += sqrt(P.readVar * q) * normals4(lo, hiC, select(STREAM_READ, STREAM_DEVICE_READ, DEVREAD));
              }
              if (GAIN) { i *= gains[p * P.N4 + colc]; }
              if (ANALOGN) { i += P.analogNoise * hi * normals4(lo, hiC, STREAM_ANALOG); }
              if (ADCN) { i += P.adcNoise * (hi / adcLevels()) * normals4(lo, hiC, STREAM_ADC); }
            }
            blk[m] += P.nsaVmDg * convert4(i, hi, p, 0u, colc, 1u);
          }
        }
      }
      if (IDEAL) {
        for (var m = 0u; m < TM; m++) { blk[m] = vec4<f32>(D[m]); }
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
  let j0 = (P.col4Offset + col4) * 4u;
  for (var m = 0u; m < TM; m++) {
    if (r0 + m >= P.rows) { continue; }
    var y = out[m];
    if (!TRACE) {
      if (DIG != 0u) { y = digital4(y, j0); }
      else { y = y * ep[col4] * P.outScale + P.biasScale * ep[P.N4 + col4]; }
    }
    let o = P.outBase + (r0 + m) * P.N;
    // A loop of unknown count is not unrolled: one store site instead of four. CPU drivers expand each
    // site into a branch and a store per SIMD lane, and that code's compile time grows with TM sites.
    let n = select(0u, min(4u, P.N - j0), j0 < P.N);
    for (var e = 0u; e < n; e++) { Y[o + j0 + e] = y[e]; }
  }
}
