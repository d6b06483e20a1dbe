// im2col for one convolution group (DESIGN.md section 6): cols[row, col] with rows (b, oh, ow) and
// columns (ci, ki, kj) over the group's input channels, zero outside the input. One invocation per
// element of cols (grid as in elementwise.wgsl). Rows are numbered over the whole batch: a dispatch
// writes rows from P.row0 on, at P.y_shift in its binding of Y, so a matrix larger than one storage
// binding is written in windows.
// Params and the bindings X, Y are generated from src/kernels/im2col.ts.

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * P.stride + gid.x;
  if (i >= P.n) { return; }
  let col = i % P.kc;
  let row = P.row0 + i / P.kc;
  let b = row / P.plane;
  let p = row % P.plane;
  let oh = p / P.OW;
  let ow = p % P.OW;
  let kj = col % P.kw;
  let t = col / P.kw;
  let ki = t % P.kh;
  let ci = t / P.kh;
  let ih = i32(oh * P.sh + ki * P.dh) - P.pt;
  let iw = i32(ow * P.sw + kj * P.dw) - P.pl;
  var v = 0.0;
  if (ih >= 0 && ih < i32(P.H) && iw >= 0 && iw < i32(P.W)) {
    v = X[((b * P.cin + P.chan0 + ci) * P.H + u32(ih)) * P.W + u32(iw)];
  }
  Y[P.y_shift + i] = v;
}
