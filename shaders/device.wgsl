// Device models on the GPU (DESIGN.md section 12; the CPU oracle is src/reference/chip.ts
// perturbDeviceRef with the formulas of src/devices), one column slice of a layer at a time: the cells
// G [K, S, pol, P.ncols] hold columns [P.j0, P.j0 + P.ncols) of a layer of P.N columns and draw the
// counters of their place in the whole layer, so a layer split across bindings programs the same chip.
// `cells`: per cell, in µS inside and normalized (Gmax = 1) outside: the model's programming from the
// target with one draw (stream deviceProgramming), stuck-at faults (stuckAt), the time step to
// noise.time with a second draw (deviceDrift), then the per-read σ of the cell (Sg) and, for drift
// compensation, the programmed state (Pm). Everything that depends on time alone (ln t, the 1/f
// factor) arrives precomputed in f64 from src/kernels/device.ts.
// `readout`: per output column, the eye readouts Σ_k |ŵ[k, j]| / Qw of the programmed and current
// cells (src/devices/compensation.ts eyeReadout) into E [2·N] (programmed at 2j, current at 2j + 1).
// `factors`: the compensation factors (compensationFactors) times the layer's weight scales: the
// chip's own epilogue EO from the layer's EI ([n4·4] scales, [n4·4] bias).
// MODEL: 0 pcm-joshi2020, 1 reram-wan2022, 2 reram-cmo. Params, the bindings and the overrides MODEL,
// PROG, STUCK, DRIFTS, READS, HOLDS, KEEP, GLOBAL are generated from src/kernels/device.ts.

// Table entry i of the 12-word coefficient table (polynomials, constant term first).
fn coef(i: u32) -> f32 {
  return P.coef[i / 4u][i % 4u];
}

// σ(x) = Σ_i coef[at + i]·x^i over n terms (µS; the g_max / reference factor folded in by the host).
fn poly(at: u32, n: u32, x: f32) -> f32 {
  var s = 0.0;
  var xp = 1.0;
  for (var i = 0u; i < n; i++) {
    s += coef(at + i) * xp;
    xp *= x;
  }
  return s;
}

fn program(gT: f32, n: f32) -> f32 {
  if (MODEL == 0u) { return max(gT + P.progScale * poly(0u, 3u, gT / P.gMax) * n, 0.0); }
  if (MODEL == 1u) { return max(gT + P.progScale * poly(0u, 5u, gT / P.gMax) * n, 0.0); }
  return max(gT + P.progScale * poly(0u, 2u, gT) * n, 0.0);
}

fn atTime(gT: f32, gProg: f32, n: f32) -> f32 {
  if (MODEL == 0u) {
    // pcm.py:123-144: ν = |μ_ν + σ_ν·n|·driftScale from the target, g = g_prog·((t + t0)/t0)^(−ν).
    let lg = log(max(abs(gT / P.gMax), 1e-7));
    let mu = clamp(-0.0155 * lg + 0.0244, 0.049, 0.1);
    let sd = clamp(-0.0125 * lg - 0.0059, 0.008, 0.045);
    let nu = abs(mu + sd * n) * P.driftScale;
    return gProg * exp(-nu * P.logT);
  }
  if (MODEL == 1u) { return max(gT + P.driftScale * poly(5u, 5u, gT / P.gMax) * n, 0.0); }
  // reram.py:306-309: mean shift and spread linear in ln t, clamped to [g_min, g_max].
  let g = gProg + coef(2u) * P.logT * P.driftScale + n * (coef(3u) * P.logT + coef(4u)) * P.driftScale;
  return clamp(g, P.gMin, P.gMax);
}

// σ (µS) of one read of a cell programmed at gProg holding g (src/devices/model.ts readSigma).
fn readSigma(gProg: f32, g: f32) -> f32 {
  if (MODEL == 0u) {
    let x = abs(gProg) / P.gMax;
    let p = select(0.0, pow(x, 0.65), x > 0.0);
    let qs = min(0.0088 / max(p, 1e-3), 0.2);
    return P.readScale * qs * P.readFactor * abs(g);
  }
  if (MODEL == 2u) { return P.readScale * abs(coef(5u) * log(g) * 0.4342944819032518 * P.readFactor); }
  return 0.0;
}

@compute @workgroup_size(64)
fn cells(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = cellIndex(gid);
  if (i >= P.cells) { return; }
  let element = cellElement(i);
  let key = vec2<u32>(P.seed, P.chip);
  let gT = G[i] * P.gMax;
  var n1 = 0.0;
  if (PROG) { n1 = normal2(staticCounter(element, P.layer, STREAM_DEVICE_PROGRAMMING), key).x; }
  var g = program(gT, n1);
  var stuck = false;
  if (STUCK) {
    let r = uniform24(philox4x32(staticCounter(element, P.layer, STREAM_STUCK_AT), key).x);
    if (r < P.sa0) { g = P.Gmin * P.gMax; stuck = true; } else if (r < P.sa0 + P.sa1) { g = P.gMax; stuck = true; }
  }
  let gProg = g;
  if (KEEP) { Pm[i] = gProg / P.gMax; }
  if (DRIFTS && !(stuck && HOLDS)) {
    g = atTime(gT, gProg, normal2(staticCounter(element, P.layer, STREAM_DEVICE_DRIFT), key).x);
  }
  G[i] = g / P.gMax;
  if (READS) { Sg[i] = readSigma(gProg, g) / P.gMax; }
}

// ŵ[k, j]·dG of a cell set C ([K, S, pol, ncols]): Σ_s Σ_pol ±2^(s·c)·(C − Gmin), minus P.offsetW (Qw·dG for the offset mapping: ŵ = Σ…/dG − Qw, as eyeReadout).
fn weightAt(k: u32, j: u32, current: bool) -> f32 {
  var w = 0.0;
  for (var s = 0u; s < P.S; s++) {
    for (var q = 0u; q < P.pol; q++) {
      let at = ((k * P.S + s) * P.pol + q) * P.ncols + j;
      let c = select(Pm[at], G[at], current);
      let sgn = select(1.0, -1.0, q == 1u);
      w += sgn * f32(1u << (s * P.cellBits)) * (c - P.Gmin);
    }
  }
  return w;
}

@compute @workgroup_size(64)
fn readout(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = cellIndex(gid);
  if (j >= P.ncols) { return; }
  var r = 0.0;
  var c = 0.0;
  for (var k = 0u; k < P.K; k++) {
    r += abs((weightAt(k, j, false) - P.offsetW) / P.dG) / P.Qw;
    c += abs((weightAt(k, j, true) - P.offsetW) / P.dG) / P.Qw;
  }
  E[2u * (P.j0 + j)] = r;
  E[2u * (P.j0 + j) + 1u] = c;
}

@compute @workgroup_size(64)
fn factors(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = cellIndex(gid);
  let W = P.n4 * 4u;
  if (j >= W) { return; }
  EO[W + j] = EI[W + j];
  if (j >= P.ncols) { EO[j] = EI[j]; return; }
  // aihwkit's readout floor clamp(mean|Y|, min=0.0001) (inference/compensation/drift.py:30, :76).
  var a = 1.0;
  if (GLOBAL) {
    var r = 0.0;
    var c = 0.0;
    for (var m = 0u; m < P.N; m++) { r += E[2u * m]; c += E[2u * m + 1u]; }
    let kn = f32(P.K) * f32(P.N);
    a = max(r / kn, 1e-4) / max(c / kn, 1e-4);
  } else {
    let kf = f32(P.K);
    a = max(E[2u * (P.j0 + j)] / kf, 1e-4) / max(E[2u * (P.j0 + j) + 1u] / kf, 1e-4);
  }
  EO[j] = EI[j] * a;
}
