import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { messageOf, UsageError } from '../errors.ts';
import { BACKEND_CHOICES, type BackendChoice } from '../gpu/backend.ts';
import { formatInfo, gatherInfo } from './info.ts';
import { runVmm, type VmmFlags } from './vmm.ts';
import { runEval, type EvalFlags } from './eval.ts';
import { registerSweepCommands } from './sweep.ts';
import { PERIPH_OUT, runPeriph, type PeriphFlags } from './periph.ts';
import { NetworkEvaluator } from '../sweep/network-evaluator.ts';
import { PRESET_NAMES } from '../config/presets.ts';
import { stderrLine } from '../gpu/node-backend.ts';

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

  program
    .command('vmm')
    .description('simulate one crossbar layer Y = X·W on chip --chip (DESIGN.md sections 3 and 4) and write Y as .npy')
    .requiredOption('--weights <W.npy>', 'weights [K, N], float32 or float64')
    .requiredOption('--inputs <X.npy>', 'inputs [B, K], float32 or float64')
    .requiredOption('--out <Y.npy>', 'output [B, N], float32 (not an input; a symlink is written through, /dev/null in place)')
    .option('--config <cfg.json>', 'hardware config (JSON, DESIGN.md section 7)')
    .addOption(new Option('--preset <name>', 'base preset (a --config file overrides its fields)').choices(PRESET_NAMES))
    .addOption(backendOption())
    .option('--seed <n>', 'random seed (overrides the config)')
    .option('--chip <k>', 'chip instance', '0')
    .option('--counts <counts.json>', 'write the event counts (DESIGN.md section 5) as JSON')
    .option('--calibrate <C.npy>', 'calibration inputs for sx and the calibrated ADC range (default: all of X)')
    .option('--vectors-per-dispatch <n>', 'GPU dispatch size (results do not depend on it; default: adapter limit)')
    .action(async (opts: VmmFlags) => runVmm(opts));

  program
    .command('eval')
    .description('evaluate an ONNX network on simulated crossbar chips: accuracy over chips, event counts, images/s')
    .requiredOption('--model <m.onnx>', 'ONNX model (opsets 9-21)')
    .option('--dataset <name>', 'built-in dataset: mnist (its 2,000 test digits)')
    .option('--inputs <X.npy>', 'inputs shaped [N, ...model input]')
    .option('--labels <y.npy>', 'integer class labels [N]')
    .option('--calibrate <C.npy>', 'calibration inputs with --inputs (default: the first calibration.samples of X)')
    .option('--config <cfg.json>', 'hardware config (JSON, DESIGN.md section 7)')
    .addOption(new Option('--preset <name>', 'base preset (default: ideal when no --config)').choices(PRESET_NAMES))
    .option('--digital', 'run the whole network in f32, no crossbar')
    .option('--chips <n>', 'simulated chip instances (0..n-1)', '1')
    .option('--limit <n>', 'evaluate only the first n items')
    .option('--seed <n>', 'random seed (overrides the config)')
    .option('--batch <n>', 'samples per batch (results do not depend on it; default: what the adapter fits)')
    .option('--json', 'print one JSON object')
    .addOption(backendOption())
    .action(async (opts: EvalFlags) => runEval(opts));

  registerSweepCommands(program, (setup) => NetworkEvaluator.open(setup));

  program
    .command('periph')
    .description('measure the readout chain like a circuit (sine: SINAD, ENOB, SFDR; ramp: INL, DNL), the ADC alone and the whole chain, per chip (DESIGN.md section 11)')
    .addOption(new Option('--preset <name...>', 'presets to measure (default: isaac cascade neural-pim)').choices(PRESET_NAMES))
    .option('--config <cfg.json>', 'config (JSON); with --preset its fields override each preset')
    .option('--chips <n>', 'chip instances (0..n-1)', '1')
    .option('--seed <n>', 'random seed (overrides the config)')
    .option('--out <dir>', 'folder for report.html and periph.json', PERIPH_OUT)
    .option('--json', 'print { chains: [...] } as JSON')
    .action(async (opts: PeriphFlags) => runPeriph(opts));

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
