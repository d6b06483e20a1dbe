import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/xbarsim.js', import.meta.url));

/** Lines the native Vulkan loader and Dawn print on their own; not ours to count. */
function isDriverNoise(line: string): boolean {
  return /^(Warning|Info): /.test(line) || /^\s+at \S+ \(.*\.(cpp|h):\d+\)$/.test(line) || line.trim() === '';
}

export interface CliResult {
  /** The exit status; −1 when the process did not exit by itself (see `signal`). */
  code: number;
  /** The signal that ended the process (a native crash: SIGSEGV), if one did. */
  signal?: string;
  stdout: string;
  stderr: string;
  /** stderr without driver noise: what xbarsim itself said. */
  ownStderrLines: string[];
}

/** Runs the xbarsim command as a user would. */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 300_000): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: timeoutMs,
  });
  const stderr = r.stderr ?? '';
  return {
    code: r.status ?? -1,
    ...(r.signal ? { signal: r.signal } : {}),
    stdout: r.stdout ?? '',
    stderr,
    ownStderrLines: stderr.split('\n').filter((l) => !isDriverNoise(l)),
  };
}

/**
 * Runs the xbarsim command in this process (main() as bin/xbarsim.js calls it), capturing what it
 * writes: the same exit codes and lines as runCli without a Node start-up per case. For checks of
 * refusals; runCli stays the test of the real command.
 */
export async function runMain(args: string[]): Promise<CliResult> {
  const { main } = await import('../../src/cli/main.ts');
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(args);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  return { code, stdout, stderr, ownStderrLines: stderr.split('\n').filter((l) => !isDriverNoise(l)) };
}
