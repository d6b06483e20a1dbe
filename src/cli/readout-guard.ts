import type { XbarConfig } from '../config/types.ts';
import { UsageError } from '../errors.ts';
import type { BackendChoice } from '../gpu/backend.ts';
import { stderrLine } from '../gpu/node-backend.ts';
import { digitalUnitGap, gpuReadoutGap } from '../readout/support.ts';

/**
 * The backend a command runs `configs` on, given the --backend choice: a readout model the GPU kernels
 * do not have yet moves `auto` to the CPU reference with a note, and makes `webgpu` a usage error; a
 * digital block is a usage error (the network executor does not apply it yet).
 */
export function readoutBackend(configs: readonly XbarConfig[], choice: BackendChoice, command: string): BackendChoice {
  for (const c of configs) {
    if (digitalUnitGap(c) !== null) {
      throw new UsageError(`config: digital: the near-memory fixed-point unit is applied by \`xbarsim periph\` and the library, not yet by \`${command}\` (remove the block)`);
    }
  }
  const gap = configs.map(gpuReadoutGap).find((g) => g !== null) ?? null;
  if (gap === null || choice === 'cpu') return choice;
  if (choice === 'webgpu') throw new UsageError(`--backend webgpu: ${gap} runs on the CPU reference only for now (use --backend cpu or auto)`);
  stderrLine(`xbarsim ${command}: ${gap} runs on the CPU reference (its GPU epilogue is not built yet)`);
  return 'cpu';
}
