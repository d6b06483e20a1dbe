import { openNodeGpu } from './node-gpu.ts';
import { selectBackend, type Backend, type BackendChoice } from './backend.ts';

/** Writes one line to stderr. */
export function stderrLine(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The backend a CLI command runs on (Node: Dawn, with the software-driver fallback). */
export function nodeBackend(choice: BackendChoice): Promise<Backend> {
  return selectBackend(choice, () => openNodeGpu(stderrLine), stderrLine);
}
