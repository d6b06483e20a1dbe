/** The one table from ONNX op type to its importer, assembled from the op families. */
import type { OpImporter, OpTable } from '../node.ts';
import { ATTENTION_OPS } from './attention.ts';
import { CONSTANT_OPS } from './constants.ts';
import { CONTRIB_ATTENTION_OPS } from './contrib-attention.ts';
import { CONTRIB_DOMAIN, CONTRIB_OPS, ORT_DEFAULT_DOMAIN_OPS } from './contrib.ts';
import { CONTROL_OPS } from './control.ts';
import { CONV_OPS } from './conv.ts';
import { EINSUM_OPS } from './einsum.ts';
import { ELEMENTWISE_OPS } from './elementwise.ts';
import { EXPERIMENTAL_OPS } from './experimental.ts';
import { GATHER_OPS } from './gather.ts';
import { GRID_SAMPLE_OPS } from './grid-sample.ts';
import { LOGIC_OPS } from './logic.ts';
import { MATRIX_OPS } from './matrix.ts';
import { NORMALIZATION_OPS } from './normalization.ts';
import { POOLING_OPS } from './pooling.ts';
import { QUANTIZE_OPS } from './quantize.ts';
import { QUANTIZED_LINEAR_OPS } from './quantized-linear.ts';
import { RANDOM_OPS } from './random.ts';
import { RECURRENT_OPS } from './recurrent.ts';
import { SCATTER_OPS } from './scatter.ts';
import { REDUCE_OPS } from './reduce.ts';
import { ROTARY_OPS } from './rotary.ts';
import { SEQUENCE_OPS } from './sequence.ts';
import { SHAPE_OPS } from './shape.ts';
import { SPECTRAL_OPS } from './spectral.ts';

const FAMILIES = [MATRIX_OPS, CONV_OPS, EINSUM_OPS, ELEMENTWISE_OPS, LOGIC_OPS, REDUCE_OPS, SHAPE_OPS, GATHER_OPS, GRID_SAMPLE_OPS, POOLING_OPS, NORMALIZATION_OPS, CONSTANT_OPS, CONTROL_OPS, SEQUENCE_OPS, RECURRENT_OPS, SCATTER_OPS, QUANTIZE_OPS, QUANTIZED_LINEAR_OPS, ATTENTION_OPS, ROTARY_OPS, SPECTRAL_OPS, EXPERIMENTAL_OPS, RANDOM_OPS, ORT_DEFAULT_DOMAIN_OPS];

function assemble(families: readonly OpTable[]): ReadonlyMap<string, OpImporter> {
  const table = new Map<string, OpImporter>();
  for (const family of families) {
    for (const [op, imp] of Object.entries(family)) {
      if (table.has(op)) throw new Error(`ONNX op ${op} is registered by two op families`);
      table.set(op, imp);
    }
  }
  return table;
}

/** Importer of every supported ONNX op type (default domain). */
export const OP_IMPORTERS: ReadonlyMap<string, OpImporter> = assemble(FAMILIES);

export { CONTRIB_DOMAIN };

/** The importers of the ONNX Runtime contrib ops xbarsim supports. */
export const CONTRIB_IMPORTERS: ReadonlyMap<string, OpImporter> = assemble([CONTRIB_OPS, CONTRIB_ATTENTION_OPS]);

/** The table of a node's domain ('' and 'ai.onnx' are the default one), or null for a domain xbarsim has no ops of. */
export function importersOf(domain: string | null | undefined): ReadonlyMap<string, OpImporter> | null {
  if (!domain || domain === 'ai.onnx') return OP_IMPORTERS;
  return domain === CONTRIB_DOMAIN ? CONTRIB_IMPORTERS : null;
}
