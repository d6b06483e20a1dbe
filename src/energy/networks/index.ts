/** The built-in networks of `xbarsim energy --network NAME`, defined by layer shapes. */
import { UsageError } from '../../errors.ts';
import type { ShapeNetwork } from '../layers.ts';
import { alexnet, alexnetTorchvision } from './alexnet.ts';
import { googlenet, googlenetPaper, googlenetTorchvision } from './googlenet.ts';
import { inceptionV3 } from './inception-v3.ts';
import { mobilenetV1 } from './mobilenet.ts';
import { resnet } from './resnet.ts';
import { vgg } from './vgg.ts';

interface BuiltIn {
  /** Per-sample [C, H, W] at the canonical resolution. */
  input: readonly [number, number, number];
  build: (h: number, w: number) => ShapeNetwork;
}

/** The eight networks of the Neural-PIM comparison first, then the variants users also meet. */
const NETWORKS = {
  alexnet: { input: [3, 224, 224], build: alexnet },
  vgg16: { input: [3, 224, 224], build: (h, w) => vgg('vgg16', h, w) },
  vgg19: { input: [3, 224, 224], build: (h, w) => vgg('vgg19', h, w) },
  resnet50: { input: [3, 224, 224], build: (h, w) => resnet(50, h, w) },
  resnet101: { input: [3, 224, 224], build: (h, w) => resnet(101, h, w) },
  googlenet: { input: [3, 224, 224], build: googlenet },
  'inception-v3': { input: [3, 299, 299], build: inceptionV3 },
  'mobilenet-v1': { input: [3, 224, 224], build: mobilenetV1 },
  'alexnet-torchvision': { input: [3, 224, 224], build: alexnetTorchvision },
  'googlenet-paper': { input: [3, 224, 224], build: googlenetPaper },
  'googlenet-torchvision': { input: [3, 224, 224], build: googlenetTorchvision },
} as const satisfies Record<string, BuiltIn>;

export type NetworkName = keyof typeof NETWORKS;
export const NETWORK_NAMES = Object.keys(NETWORKS) as NetworkName[];
/** The eight networks Neural-PIM's comparison averages over (its RNN excluded). */
export const HEADLINE_NETWORKS: readonly NetworkName[] = NETWORK_NAMES.slice(0, 8);

/** Spellings users type: case, '-' and '_' ignored, and common aliases. */
const ALIASES: Readonly<Record<string, NetworkName>> = { inceptionv1: 'googlenet', mobilenet: 'mobilenet-v1', inception: 'inception-v3' };
const squash = (s: string): string => s.toLowerCase().replace(/[-_\s]/g, '');

/** The canonical name of a built-in network, or a UsageError listing them. */
export function networkName(name: string): NetworkName {
  const want = squash(name);
  const hit = NETWORK_NAMES.find((n) => squash(n) === want) ?? ALIASES[want];
  if (!hit) throw new UsageError(`--network: unknown network "${name}" (allowed: ${NETWORK_NAMES.join(', ')})`);
  return hit;
}

/** Per-sample input shape of a built-in network at its canonical resolution. */
export function networkInput(name: NetworkName): readonly [number, number, number] {
  return NETWORKS[name].input;
}

/**
 * A built-in network at a per-sample input shape [3, H, W] (default: its canonical one). A shape the
 * network cannot take is a UsageError naming `flag`.
 */
export function builtInNetwork(name: NetworkName, shape: readonly number[] = NETWORKS[name].input, flag = '--input-shape'): ShapeNetwork {
  if (shape.length !== 3 || shape[0] !== 3) throw new UsageError(`${flag}: ${name} takes [batch,] 3, H, W (got ${shape.join(',')})`);
  try {
    return NETWORKS[name].build(shape[1], shape[2]);
  } catch (e) {
    throw new UsageError(`${flag}: a ${shape[1]}×${shape[2]} input is too small for ${name} (${e instanceof Error ? e.message : String(e)})`);
  }
}
