import { MODEL_HELP } from './model-help.ts';
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { messageOf, UsageError } from '../errors.ts';
import { BACKEND_CHOICES, type BackendChoice } from '../gpu/backend.ts';
import { formatInfo, gatherInfo } from './info.ts';
import { runVmm, type VmmFlags } from './vmm.ts';
import { runEval, type EvalFlags } from './eval.ts';
import { ADAPT_INITS, runAdapt, type AdaptFlags } from './adapt.ts';
import { runRun, type RunFlags } from './run.ts';
import { registerSweepCommands } from './sweep.ts';
import { registerEnergyCommand } from './energy.ts';
import { PERIPH_OUT, runPeriph, type PeriphFlags } from './periph.ts';
import { runProgram, type ProgramFlags } from './program.ts';
import { runArray, type ArrayFlags } from './array.ts';
import { NetworkEvaluator } from '../sweep/network-evaluator.ts';
import { PRESET_NAMES } from '../config/presets.ts';
import { stderrLine } from '../gpu/node-backend.ts';
import { TRACE_ON, tracePhase, traceLine } from '../trace.ts';

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
    .requiredOption('--model <m.onnx>', MODEL_HELP)
    .option('--dataset <name>', 'built-in dataset: mnist (its 2,000 test digits) or fashion-mnist (its 10,000 test images)')
    .option('--inputs <X.npy>', 'inputs shaped [N, ...model input]; a .npz holds one array per graph input, by ONNX name; their shapes fix the model\'s dynamic dims')
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
    .option('--adapters <FILE>', 'digital low-rank adapter set (.npz or .json, README "Adapter sets") beside the analog linear layers')
    .option('--retune', 'measure the crossbar kernel\'s tiling on this adapter again (default: the tuning cache)')
    .addOption(backendOption())
    .action(async (opts: EvalFlags) => runEval(opts));

  program
    .command('adapt')
    .description('train digital low-rank adapters (LoRA) for an analog model with its weights frozen: hardware-aware, or on one chip with --chip; --full trains the weights themselves')
    .requiredOption('--model <m.onnx>', MODEL_HELP)
    .option('--dataset <name>', 'built-in dataset: trains on its training split, reports on its test split')
    .option('--inputs <X.npy>', 'inputs shaped [N, ...model input] (the last --holdout are held out); a .npz holds one array per graph input, by ONNX name')
    .option('--labels <y.npy>', 'integer class labels [N]')
    .option('--config <cfg.json>', 'hardware config (JSON, DESIGN.md section 7)')
    .addOption(new Option('--preset <name>', 'base preset').choices(PRESET_NAMES))
    .option('--rank <r>', 'adapter rank', '8')
    .option('--alpha <a>', 'LoRA scaling alpha (the branch is (alpha/r)·B·A·x)', '32')
    .option('--layers <names>', 'comma-separated linear layers to adapt, with --full linear or conv layers to train (default: every analog linear layer, with --full every analog linear and conv layer, whose backward crosses only ops with a gradient; each name once)')
    .option('--chip <k>', 'on-chip mode: fit chip k (default: hardware-aware, a new chip per mini-batch)')
    .option('--epochs <n>', 'passes over the training samples', '1')
    .option('--lr <x>', 'Adam learning rate', '0.001')
    .option('--batch <n>', 'samples per mini-batch', '32')
    .option('--seed <n>', 'random seed (overrides the config; also seeds A and the batch order)')
    .option('--limit <n>', 'training samples (built-in: the first n of the training split)', '2000')
    .option('--holdout <n>', 'held-out samples for the accuracy shown each epoch', '200')
    .option('--eval-limit <n>', 'test images for the accuracy reported at the end (built-in datasets)', '1000')
    .addOption(new Option('--init <how>', 'initial adapters: zero (LoRA: random A, B = 0) or rrr (closed-form reduced-rank fit on the training chip)').choices([...ADAPT_INITS]).default('zero'))
    .requiredOption('--out <adapters.npz>', 'adapter set to write (.npz or .json; with --full the re-programmed model, .onnx); OUT.checkpoint.json is written after each epoch and kept')
    .option('--full', 'hardware-aware training of the weights and biases of every analog linear and conv layer whose backward crosses only ops with a gradient, instead of adapters (noise in the forward pass, the chip per mini-batch as for adapters; --rank/--alpha unused); writes the model with the trained weights to --out (.onnx)')
    .option('--resume', 'continue from OUT.checkpoint.json (same flags; a larger --epochs trains on)')
    .option('--json', 'print one JSON object')
    .addOption(backendOption())
    .action(async (opts: AdaptFlags) => runAdapt(opts));

  program
    .command('run')
    .description('one forward pass of an ONNX network (digital, or one simulated chip) and write its output as float32 .npy')
    .requiredOption('--model <m.onnx>', MODEL_HELP)
    .requiredOption('--inputs <X.npy>', 'inputs shaped [N, ...model input], float32, float64, float16 or integers (token ids); a .npz holds one array per graph input, by ONNX name; their shapes fix the model\'s dynamic dims')
    .requiredOption('--out <Y.npy>', 'output [N, ...model output], float32')
    .option('--digital', 'run the whole network in f32, no crossbar')
    .addOption(new Option('--preset <name>', 'base preset (a --config file overrides its fields)').choices(PRESET_NAMES))
    .option('--config <cfg.json>', 'hardware config (JSON, DESIGN.md section 7)')
    .option('--chip <k>', 'chip instance (default 0)')
    .option('--output <name>', 'graph output to write, by its ONNX name (default: the model\'s output; with several, all of them concatenated per sample)')
    .option('--calibrate <C.npy>', 'calibration inputs (default: the first calibration.samples of X)')
    .option('--seed <n>', 'random seed (overrides the config)')
    .option('--batch <n>', 'samples per batch (results do not depend on it; default: what the adapter fits)')
    .addOption(backendOption())
    .action(async (opts: RunFlags) => runRun(opts));

  registerSweepCommands(program, (setup, opts) => NetworkEvaluator.open(setup, opts));
  registerEnergyCommand(program);

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

  program
    .command('program')
    .description('write the programmed conductances (µS) of chips 0..N-1 of W: programming noise, stuck-at, drift to --time; never per-read noise (DESIGN.md section 12)')
    .requiredOption('--weights <W.npy>', 'weights [K, N], float32 or float64')
    .requiredOption('--out <G.npy>', 'conductances [chips, K, S, pol, N] in µS, float32')
    .option('--config <cfg.json>', 'hardware config (JSON, DESIGN.md section 7)')
    .addOption(new Option('--preset <name>', 'base preset (a --config file overrides its fields)').choices(PRESET_NAMES))
    .option('--chips <n>', 'chip instances 0..n-1', '1')
    .option('--time <s>', 'seconds since programming: sets noise.time (device models)')
    .option('--seed <n>', 'random seed (overrides the config)')
    .action(async (opts: ProgramFlags) => runProgram(opts));

  program
    .command('array')
    .description('column currents of one array with wire resistance (DESIGN.md section 13): G [rows, cols] in S, V [B, rows] in V, I [B, cols] in A')
    .requiredOption('--conductances <G.npy>', 'cell conductances [rows, cols] in siemens')
    .requiredOption('--voltages <V.npy>', 'row drive voltages [B, rows] (or [rows]) in volts')
    .requiredOption('--out <I.npy>', 'column currents [B, cols] in amperes, float64')
    .option('--r-row <ohm>', 'row wire resistance per cell segment (Ω)', '0')
    .option('--r-col <ohm>', 'column wire resistance per cell segment (Ω)', '0')
    .option('--r-terminal <ohm>', 'driver and sense terminal resistance (Ω)', '0')
    .option('--tolerance <rel>', 'largest estimated column-current error, relative to the largest column current', '1e-10')
    .option('--max-iterations <n>', 'line sweeps before the solve is reported as not converged (exit 1)', '100000')
    .option('--json', 'print the solve statistics as one JSON object')
    .action(async (opts: ArrayFlags) => runArray(opts));

  for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  return program;
}

/** Runs the CLI; returns the exit code (0 ok, 2 bad usage or input, 1 runtime failure). */
export async function main(argv: string[]): Promise<number> {
  if (TRACE_ON) {
    tracePhase('modules');
    // On exit, so the device's teardown and whatever Node does after main returns are counted too.
    process.once('exit', () => {
      tracePhase('exit');
      stderrLine(traceLine()!);
    });
  }
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
