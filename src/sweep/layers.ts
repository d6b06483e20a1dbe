import { splitLayerPath } from '../config/schema.ts';
import type { XbarConfig } from '../config/types.ts';
import { UsageError } from '../errors.ts';
import { isMatrixOp, sizeOf, type Network } from '../ir/graph.ts';
import type { Vary } from './spec.ts';
import type { LayerRef } from './types.ts';

/** The model's Linear/Conv layers, as `layers` keys name them. */
export function matrixLayerRefs(net: Network): LayerRef[] {
  // A tied layer (an RNN's recurrent weights) is listed once, however many steps use it.
  const seen = new Set<number>();
  return net.ops.filter(isMatrixOp).filter((op) => !seen.has(op.layerIndex) && seen.add(op.layerIndex)).map((op) => ({ index: op.layerIndex, name: op.name }));
}

/** The model's number of classes: its output's size per sample (labels must be below it). */
export function modelClasses(net: Network): number {
  return sizeOf(net.shapes.get(net.output) ?? []);
}

/** The model's layers as messages list them: `0 fc1, 1 fc2`. */
export function layerList(layers: readonly LayerRef[]): string {
  return layers.length === 0 ? 'none: the model has no Linear/Conv layer' : layers.map((l) => `${l.index} ${l.name}`).join(', ');
}

/** The layer a `layers` key names (a node name first, then an index), or undefined. */
export function layerOf(key: string, layers: readonly LayerRef[]): LayerRef | undefined {
  return layers.find((l) => l.name === key) ?? layers.find((l) => String(l.index) === key);
}

/** A `layers` key and the flag it came from, for messages. */
export interface LayerKey {
  key: string;
  /** e.g. `--config chip.json: layers.fc9` or `--vary layers.fc9.adc.bits=4,8`. */
  where: string;
}

/**
 * Checks `layers` keys against the model before any work: each must name one of its Linear/Conv
 * layers, and no two may name the same layer (by name and by index), since one of them would
 * silently win. Throws a one-line UsageError naming the key and the layers that exist.
 */
export function checkLayerKeys(keys: readonly LayerKey[], layers: readonly LayerRef[]): void {
  const seen = new Map<number, LayerKey>();
  for (const k of keys) {
    const l = layerOf(k.key, layers);
    if (l === undefined) throw new UsageError(`${k.where}: no Linear/Conv layer of the model has the name or index ${JSON.stringify(k.key)} (layers: ${layerList(layers)})`);
    const other = seen.get(l.index);
    if (other !== undefined && other.key !== k.key) {
      throw new UsageError(`${k.where}: names layer ${l.index} ${l.name}, as ${other.where} does; use one key per layer`);
    }
    seen.set(l.index, k);
  }
}

/** The `layers` keys of a config, for checkLayerKeys. */
export function configLayerKeys(config: XbarConfig, where: string): LayerKey[] {
  return Object.keys(config.layers).map((key) => ({ key, where: `${where}: layers.${key}` }));
}

/** The layer keys of `--vary layers.<key>.<field>` flags. */
export function varyLayerKeys(varies: readonly Vary[]): LayerKey[] {
  const out: LayerKey[] = [];
  for (const v of varies) {
    const split = splitLayerPath(v.path);
    if (split !== undefined) out.push({ key: split.key, where: `--vary ${v.path}=${v.spec}` });
  }
  return out;
}
