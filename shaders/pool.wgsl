// Max / average pooling over NCHW with ONNX pads, strides and dilations; one invocation per output
// element (grid as in elementwise.wgsl). Window taps outside the input are skipped for max and for
// the average's sum; with count_include_pad the divisor also counts taps inside the declared pads,
// but never the ceil_mode overhang beyond them (the ONNX reference's behaviour).
// Params, the bindings X, Y and MAX_MODE are generated from src/kernels/pool.ts.

// -FLT_MAX, what ONNX Runtime leaves in a window with no valid tap.
const LOWEST: f32 = bitcast<f32>(0xff7fffffu);

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  let ow = i % P.OW;
  let t = i / P.OW;
  let oh = t % P.OH;
  let plane = t / P.OH;
  let base = plane * P.H * P.W;
  let H = i32(P.H);
  let W = i32(P.W);
  var acc = select(0.0, LOWEST, MAX_MODE);
  var taps = 0u;
  var pad_taps = 0u;
  for (var ki = 0u; ki < P.kh; ki++) {
    let ih = i32(oh * P.sh + ki * P.dh) - P.pt;
    let row_in = ih >= 0 && ih < H;
    let row_pad = ih >= -P.pt && ih < H + P.pb;
    for (var kj = 0u; kj < P.kw; kj++) {
      let iw = i32(ow * P.sw + kj * P.dw) - P.pl;
      if (row_in && iw >= 0 && iw < W) {
        let v = X[base + u32(ih) * P.W + u32(iw)];
        if (MAX_MODE) { acc = max(acc, v); } else { acc = acc + v; }
        taps = taps + 1u;
      } else if (row_pad && iw >= -P.pl && iw < W + P.pr) {
        pad_taps = pad_taps + 1u;
      }
    }
  }
  if (MAX_MODE) {
    Y[i] = acc;
  } else {
    let count = taps + select(0u, pad_taps, P.include_pad != 0u);
    Y[i] = select(0.0, acc / f32(max(count, 1u)), count > 0u);
  }
}
