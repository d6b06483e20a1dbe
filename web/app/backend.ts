// The app's compute backend: navigator.gpu through the same selectBackend as the CLI (auto: WebGPU,
// else the CPU reference, announced), so the fallback rule lives in one place.
import { messageOf } from '../../src/errors.ts';
import { selectBackend, type Backend } from '../../src/gpu/backend.ts';
import { openBrowserGpu } from '../../src/gpu/browser-gpu.ts';

/** WebGPU if this browser has an adapter, else the CPU reference with the reason; never throws. */
export async function openAppBackend(): Promise<Backend> {
  const warn = (line: string): void => console.warn(line);
  try {
    return await selectBackend('auto', () => openBrowserGpu(warn), warn);
  } catch (e) {
    // An adapter that refuses a device still leaves the CPU reference, announced as such.
    return { kind: 'cpu', reason: `WebGPU failed (${messageOf(e)}); using the CPU reference, slowly` };
  }
}
