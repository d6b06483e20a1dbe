import { openNodeGpu } from '../gpu/node-gpu.ts';
import { selectBackend, type Backend, type BackendChoice } from '../gpu/backend.ts';

/** Writes one line to stderr. */
export function stderrLine(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The backend a CLI command runs on (Node: Dawn, with the software-driver fallback). */
export function cliBackend(choice: BackendChoice): Promise<Backend> {
  return selectBackend(choice, () => openNodeGpu(stderrLine), stderrLine);
}
