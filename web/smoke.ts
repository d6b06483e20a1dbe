// Runs the GEMM kernel on the browser's WebGPU and checks it against the CPU reference; the browser
// test suite reads window.xbarsimSmoke.
import { openBrowserGpu } from '../src/gpu/browser-gpu.ts';
import { GpuRuntime } from '../src/gpu/runtime.ts';
import { adapterLine } from '../src/gpu/gpu-context.ts';
import { gemmGpu } from '../src/kernels/gemm.ts';
import { gemmRef } from '../src/reference/gemm.ts';

export interface SmokeResult {
  ok: boolean;
  adapter?: string;
  maxAbsError?: number;
  error?: string;
}

async function smoke(): Promise<SmokeResult> {
  const runtime = new GpuRuntime(() => openBrowserGpu((l) => console.warn(l)));
  const s = await runtime.session();
  if (!s) return { ok: false, error: 'navigator.gpu gave no adapter' };
  const M = 33, K = 70, N = 9;
  const a = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i));
  const b = Float32Array.from({ length: K * N }, (_, i) => Math.cos(i * 0.7));
  const got = await gemmGpu(s, a, b, M, K, N);
  const want = gemmRef(a, b, M, K, N);
  let err = 0;
  for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
  const adapter = adapterLine(s.ctx.adapter);
  runtime.release();
  return { ok: err < 1e-3, adapter, maxAbsError: err };
}

declare global {
  interface Window {
    xbarsimSmoke: Promise<SmokeResult>;
  }
}

window.xbarsimSmoke = smoke().catch((e: unknown) => ({ ok: false, error: String(e) }));
void window.xbarsimSmoke.then((r) => {
  const out = document.getElementById('out');
  if (out) out.textContent = JSON.stringify(r, null, 2);
});
