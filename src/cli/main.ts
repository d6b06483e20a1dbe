import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { messageOf, UsageError } from '../errors.ts';
import { BACKEND_CHOICES, type BackendChoice } from '../gpu/backend.ts';
import { formatInfo, gatherInfo } from './info.ts';
import { stderrLine } from './gpu-open.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The --backend option, shared by every command that computes. */
export function backendOption(): Option {
  return new Option('--backend <name>', 'compute backend (auto: WebGPU, else the CPU reference)').choices(BACKEND_CHOICES).default('auto');
}

function buildProgram(): Command {
  const program = new Command('xbarsim')
    .description('Simulate analog RRAM crossbar processing-in-memory accelerators on WebGPU')
    .version(pkg.version, '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, outputError: () => undefined });

  program
    .command('info')
    .description('print the WebGPU adapter, backend, limits and features')
    .option('--json', 'print one JSON object')
    .addOption(backendOption())
    .action(async (opts: { json?: boolean; backend: BackendChoice }) => {
      const report = await gatherInfo(opts.backend, pkg.version);
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatInfo(report)}\n`);
    });

  for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  return program;
}

/** Runs the CLI; returns the exit code (0 ok, 2 bad usage or input, 1 runtime failure). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    if (argv.length === 0) {
      process.stdout.write(program.helpInformation());
      return 0;
    }
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      stderrLine(`xbarsim: ${e.message.replace(/^error: /, '').split('\n')[0]}`);
      return 2;
    }
    if (e instanceof UsageError) {
      stderrLine(`xbarsim: ${messageOf(e)}`);
      return 2;
    }
    stderrLine(`xbarsim: error: ${messageOf(e)}`);
    return 1;
  }
}
