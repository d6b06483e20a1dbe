// Direct grouped convolution over NCHW with ONNX pads, strides and dilations, for the f32 path
// (--digital and calibration) of a conv with groups: one invocation per output element sums its
// window over its group's input channels. Im2col + GEMM + scatter per group took three dispatches a
// group: 6,000 for one depthwise layer of 2,048 channels. Accumulates in f32 in the weight order
// (ci, ki, kj), as the GEMM does. Params and the bindings X, Wt, Bias, Y are generated from
// src/kernels/conv-grouped.ts; the grid is elementwise.wgsl's. Two entry points, so a conv without
// a bias binds no Bias buffer.

/** Output element i's output channel. */
fn channel(i: u32) -> u32 {
  return (i / (P.OW * P.OH)) % P.cout;
}

/** Output element i's window sum. */
fn window_sum(i: u32) -> f32 {
  let ow = i % P.OW;
  let t = i / P.OW;
  let oh = t % P.OH;
  let t2 = t / P.OH;
  let co = t2 % P.cout;
  let b = t2 / P.cout;
  let c0 = (co / P.coutg) * P.cing;
  let H = i32(P.H);
  let W = i32(P.W);
  var acc = 0.0;
  for (var ci = 0u; ci < P.cing; ci++) {
    let plane = (b * P.cin + c0 + ci) * P.H * P.W;
    let wrow = (co * P.cing + ci) * P.kh * P.kw;
    for (var ki = 0u; ki < P.kh; ki++) {
      let ih = i32(oh * P.sh + ki * P.dh) - P.pt;
      if (ih < 0 || ih >= H) { continue; }
      for (var kj = 0u; kj < P.kw; kj++) {
        let iw = i32(ow * P.sw + kj * P.dw) - P.pl;
        if (iw < 0 || iw >= W) { continue; }
        acc = acc + X[plane + u32(ih) * P.W + u32(iw)] * Wt[wrow + ki * P.kw + kj];
      }
    }
  }
  return acc;
}

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  Y[i] = window_sum(i);
}

@compute @workgroup_size({{WG}})
fn bias_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  Y[i] = window_sum(i) + Bias[channel(i)];
}
