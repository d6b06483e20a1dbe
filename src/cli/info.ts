import { adapterLine } from '../gpu/gpu-context.ts';
import { releaseBackend, type BackendChoice } from '../gpu/backend.ts';
import { nodeBackend } from '../gpu/node-backend.ts';

/** What `xbarsim info --json` prints. */
export interface InfoReport {
  version: string;
  backend: 'webgpu' | 'cpu';
  reason?: string;
  adapter?: { vendor: string; architecture: string; device: string; description: string; source: string; isSoftware: boolean };
  limits?: Record<string, number>;
  features?: string[];
  wgslLanguageFeatures?: string[];
}

/** Gathers the adapter, limits and features of the backend that `choice` selects. */
export async function gatherInfo(choice: BackendChoice, version: string): Promise<InfoReport> {
  const backend = await nodeBackend(choice);
  try {
    if (backend.kind === 'cpu') return { version, backend: 'cpu', reason: backend.reason };
    const { ctx } = backend.session;
    return {
      version,
      backend: 'webgpu',
      adapter: ctx.adapter,
      limits: { ...ctx.limits },
      features: ctx.caps.features,
      wgslLanguageFeatures: ctx.caps.wgslLanguageFeatures,
    };
  } finally {
    // Two CI runs ended `info` with SIGSEGV at process exit on lavapipe, a device opened and dropped
    // at once; every other command has waited on its queue before releasing it, and none has. So
    // info lets the queue go idle before the release, and the release finish (the device lost)
    // before it returns.
    const device = backend.kind === 'webgpu' ? backend.session.ctx.device : null;
    if (device) await device.queue.onSubmittedWorkDone();
    releaseBackend(backend);
    if (device) await device.lost;
  }
}

/** Human-readable form of an InfoReport. */
export function formatInfo(r: InfoReport): string {
  const lines = [`xbarsim ${r.version}`];
  if (r.backend === 'cpu' || !r.adapter) {
    lines.push(`backend:  cpu (${r.reason ?? 'reference'})`);
    return lines.join('\n');
  }
  const a = r.adapter;
  lines.push('backend:  webgpu');
  lines.push(`adapter:  ${adapterLine(a)}`);
  lines.push(`  vendor: ${a.vendor || '-'}   architecture: ${a.architecture || '-'}   device: ${a.device || '-'}`);
  lines.push(`  description: ${a.description || '-'}`);
  lines.push(`  found via: ${a.source}`);
  lines.push('limits:');
  for (const [k, v] of Object.entries(r.limits ?? {})) lines.push(`  ${k.padEnd(36)} ${v}`);
  lines.push(`features: ${(r.features ?? []).join(', ') || '-'}`);
  lines.push(`wgsl language features: ${(r.wgslLanguageFeatures ?? []).join(', ') || '-'}`);
  return lines.join('\n');
}
