import { UsageError } from '../errors.ts';
import { adapterLine, type GpuContext } from './gpu-context.ts';
import { GpuRuntime, type GpuSession } from './runtime.ts';

export type BackendChoice = 'auto' | 'webgpu' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'webgpu', 'cpu'];

/** The backend a run uses: a WebGPU session, or the CPU reference with the reason why. */
export type Backend =
  | { kind: 'webgpu'; runtime: GpuRuntime; session: GpuSession }
  | { kind: 'cpu'; reason: string };

/**
 * Picks the backend: `webgpu` must find an adapter (else a usage error, exit 2); `auto` falls back
 * to the CPU reference with one warning line; `cpu` never touches the GPU.
 */
export async function selectBackend(
  choice: BackendChoice,
  open: () => Promise<GpuContext | null>,
  warn: (line: string) => void,
): Promise<Backend> {
  if (choice === 'cpu') return { kind: 'cpu', reason: 'requested with --backend cpu' };
  const runtime = new GpuRuntime(open);
  const session = await runtime.session();
  if (session) return { kind: 'webgpu', runtime, session };
  if (choice === 'webgpu') {
    throw new UsageError('--backend webgpu: no WebGPU adapter found (no GPU, and no software Vulkan driver: install mesa-vulkan-drivers or chromium)');
  }
  warn('xbarsim: warning: no WebGPU adapter found; using the CPU reference backend (slow)');
  return { kind: 'cpu', reason: 'no WebGPU adapter found' };
}

/** Releases whatever GPU resources a backend holds. */
export function releaseBackend(b: Backend): void {
  if (b.kind === 'webgpu') b.runtime.release();
}

/** Where a result was computed, for every report (CLI, sweep results, browser app). */
export function backendLine(b: Backend): string {
  return b.kind === 'webgpu' ? `webgpu: ${adapterLine(b.session.ctx.adapter)}` : `cpu (${b.reason})`;
}
