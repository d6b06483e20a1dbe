import { SingleBar, Presets } from 'cli-progress';
import type { XbarConfig } from '../config/types.ts';
import { UsageError } from '../errors.ts';
import { backendLine, releaseBackend, type BackendChoice } from '../gpu/backend.ts';
import { nodeBackend, stderrLine } from '../gpu/node-backend.ts';
import { checkOutputs, writeOutputs, type InputFile } from '../io/atomic-write.ts';
import { dataInputShapes, readInputs } from '../io/datasets/eval-data.ts';
import { encodeNpy } from '../io/npy.ts';
import { sizeOf, type Network } from '../ir/graph.ts';
import { loadModel } from '../nn/load-model.ts';
import { openNetwork } from '../nn/runner.ts';
import { checkLayerKeys, configLayerKeys, matrixLayerRefs } from '../sweep/layers.ts';
import { configFromFlags, intFlag } from './vmm.ts';

/** Flags of `xbarsim run` (issue 12 item 7). */
export interface RunFlags {
  model: string;
  inputs: string;
  out: string;
  digital?: boolean;
  preset?: string;
  config?: string;
  chip?: string;
  output?: string;
  calibrate?: string;
  seed?: string;
  batch?: string;
  backend: BackendChoice;
}

/** The config of --preset/--config/--seed, or null for --digital; exactly one mode must be chosen. */
export function runConfig(f: Pick<RunFlags, 'digital' | 'preset' | 'config' | 'seed' | 'chip' | 'calibrate'>): XbarConfig | null {
  const analog = f.preset !== undefined || f.config !== undefined;
  if (f.digital && analog) throw new UsageError(`--digital runs the network in f32 without crossbars; it does not go with ${f.preset !== undefined ? '--preset' : '--config'}`);
  if (f.digital) {
    for (const [flag, v] of [['--chip', f.chip], ['--calibrate', f.calibrate]] as const) {
      if (v !== undefined) throw new UsageError(`${flag}: has no effect with --digital (it selects or calibrates a simulated chip)`);
    }
    // --seed also keys a model's own random ops: checked against the model (digitalSeed).
    intFlag('--seed', f.seed, 0, 2 ** 32 - 1);
    return null;
  }
  if (!analog) throw new UsageError('one of --digital, --preset NAME or --config FILE is required');
  const cfg = configFromFlags(f.config, f.preset);
  const seed = intFlag('--seed', f.seed, 0, 2 ** 32 - 1);
  return seed === undefined ? cfg : { ...cfg, seed };
}

/** What `run` writes: a graph output's name, per-sample shape and place in the executor's packed sample. */
interface OutputPick {
  name: string;
  shape: readonly number[];
  offset: number;
}

/**
 * The graph output to write: --output names one of the model's graph outputs; by default the only
 * one, or with several, all of them flattened and concatenated per sample in graph order (the
 * executor's packed output).
 */
export function chosenOutput(net: Network, output: string | undefined): OutputPick {
  // The ONNX name of a single output, not the IR value it aliases (an expanded node's last step).
  const name = net.outputs.length === 1 ? net.outputs[0].name : net.output;
  if (output === undefined || (net.outputs.length <= 1 && (output === net.output || output === name))) return { name, shape: net.shapes.get(net.output)!, offset: 0 };
  const o = net.outputs.find((v) => v.name === output);
  if (!o) throw new UsageError(`--output ${JSON.stringify(output)}: not a graph output of the model (allowed: ${net.outputs.map((v) => JSON.stringify(v.name)).join(', ')})`);
  return { name: o.name, shape: o.shape, offset: net.outputs.length > 1 ? o.offset : 0 };
}

/** The config of a --digital run: the ideal preset, with --seed for a model that draws random numbers of its own (and refused for one that does not). */
function digitalConfig(net: Network, seedFlag: string | undefined): XbarConfig {
  const cfg = configFromFlags(undefined, 'ideal');
  const seed = intFlag('--seed', seedFlag, 0, 2 ** 32 - 1);
  if (seed === undefined) return cfg;
  if (!net.ops.some((o) => o.kind === 'random')) throw new UsageError('--seed: has no effect with --digital (it selects or calibrates a simulated chip, or seeds the model\'s own random ops, and this model has none)');
  return { ...cfg, seed };
}

/** `xbarsim run`: one forward pass of --inputs through the digital network or one simulated chip, written as float32 .npy. */
export async function runRun(f: RunFlags): Promise<void> {
  // Everything is validated before the backend is opened or anything is written.
  const cfg = runConfig(f);
  const chip = intFlag('--chip', f.chip, 0, 2 ** 32 - 1) ?? 0;
  const batchFlag = intFlag('--batch', f.batch, 1, 65536);
  const net = loadModel(f.model, dataInputShapes(undefined, f.inputs));
  const digitalCfg = cfg === null ? digitalConfig(net, f.seed) : null;
  const output = chosenOutput(net, f.output);
  const outShape = output.shape;
  const packedSize = sizeOf(net.shapes.get(net.output)!);
  const X = readInputs(f.inputs, '--inputs', net.input.shape, net.inputs);
  // DESIGN.md section 6: calibrate on the first calibration.samples of --calibrate, else of the inputs.
  const C = cfg !== null && f.calibrate !== undefined ? readInputs(f.calibrate, '--calibrate', net.input.shape, net.inputs) : X;
  if (cfg !== null) checkLayerKeys(configLayerKeys(cfg, f.config !== undefined ? `--config ${f.config}` : 'config'), matrixLayerRefs(net));
  const inputs: InputFile[] = [
    { flag: '--model', path: f.model },
    { flag: '--inputs', path: f.inputs },
    ...(f.calibrate !== undefined ? [{ flag: '--calibrate', path: f.calibrate }] : []),
    ...(f.config !== undefined ? [{ flag: '--config', path: f.config }] : []),
  ];
  const [out] = checkOutputs([{ flag: '--out', path: f.out }], inputs);

  const backend = await nodeBackend(f.backend);
  try {
    const runner = openNetwork(backend, net, cfg ?? digitalCfg!, cfg === null);
    try {
      const inSize = sizeOf(net.input.shape);
      const outSize = sizeOf(outShape);
      if (cfg !== null) {
        const calN = Math.min(cfg.calibration.samples, C.n);
        await runner.calibrate(C.x.subarray(0, calN * inSize), calN);
      }
      const handle = cfg === null ? null : await runner.program(chip);
      const Y = new Float32Array(X.n * outSize);
      const batch = batchFlag ?? runner.maxBatch;
      const bar = process.stderr.isTTY && X.n > batch ? new SingleBar({ format: 'run [{bar}] {percentage}% | {value}/{total} samples | ETA {eta_formatted}', hideCursor: true }, Presets.shades_classic) : null;
      bar?.start(X.n, 0);
      const t0 = performance.now();
      try {
        for (let s0 = 0; s0 < X.n; s0 += batch) {
          const B = Math.min(batch, X.n - s0);
          const r = await runner.forward(handle, X.x.subarray(s0 * inSize, (s0 + B) * inSize), B, s0);
          if (packedSize === outSize) Y.set(r.output, s0 * outSize);
          else for (let b = 0; b < B; b++) Y.set(r.output.subarray(b * packedSize + output.offset, b * packedSize + output.offset + outSize), (s0 + b) * outSize);
          bar?.update(s0 + B);
        }
      } finally {
        bar?.stop();
        handle?.release();
      }
      const ms = performance.now() - t0;
      writeOutputs([{ out, data: encodeNpy([X.n, ...outShape], '<f4', Y) }]);
      const mode = cfg === null ? 'digital f32 (no crossbar)' : `${cfg.preset ?? 'custom config'} (${cfg.dataflow}), chip ${chip}`;
      stderrLine(`xbarsim run: ${output.name} [${[X.n, ...outShape].join(', ')}] -> ${f.out} | ${mode} | ${ms.toFixed(1)} ms on ${backendLine(backend)}`);
    } finally {
      runner.destroy();
    }
  } finally {
    releaseBackend(backend);
  }
}
