import type { XbarConfig } from '../config/types.ts';
import { UsageError } from '../errors.ts';
import type { BackendChoice } from '../gpu/backend.ts';
import { stderrLine } from '../gpu/node-backend.ts';
import { digitalUnitGap, gpuReadoutGap } from '../readout/support.ts';

/**
 * The backend a command runs `configs` on, given the --backend choice: what of the readout chain the
 * GPU kernels do not have (NNS+A, a fitted nonuniform ADC, a digital format wider than f32 holds; see
 * src/readout/support.ts) moves `auto` to the CPU reference with a note, and makes `webgpu` a usage error.
 */
export function readoutBackend(configs: readonly XbarConfig[], choice: BackendChoice, command: string): BackendChoice {
  const gap = configs.map((c) => gpuReadoutGap(c) ?? digitalUnitGap(c)).find((g) => g !== null) ?? null;
  if (gap === null || choice === 'cpu') return choice;
  if (choice === 'webgpu') throw new UsageError(`--backend webgpu: ${gap} runs on the CPU reference only for now (use --backend cpu or auto)`);
  stderrLine(`xbarsim ${command}: ${gap} runs on the CPU reference (the GPU epilogue lacks it)`);
  return 'cpu';
}
