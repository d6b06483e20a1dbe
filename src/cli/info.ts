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
    releaseBackend(backend);
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
