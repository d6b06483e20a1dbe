import type { XbarConfig } from '../config/types.ts';
import type { BackendChoice } from '../gpu/backend.ts';
import { stderrLine } from '../gpu/node-backend.ts';
import { gpuCircuitGap } from '../kernels/xbar.ts';

/**
 * The backend a command runs `configs` on, given the --backend choice: a circuit the GPU kernels do
 * not evaluate (gpuCircuitGap) moves `auto` to the CPU reference with a note; `webgpu` keeps the
 * choice, and the network refuses it with the gap's one line.
 */
export function circuitBackend(configs: readonly XbarConfig[], choice: BackendChoice, command: string): BackendChoice {
  if (choice !== 'auto') return choice;
  const gap = configs.map(gpuCircuitGap).find((g) => g !== null) ?? null;
  if (gap === null) return choice;
  stderrLine(`xbarsim ${command}: ${gap.replace(/ \(use --backend cpu\)$/, '')}: running on the CPU reference`);
  return 'cpu';
}
