/**
 * ONNX external data: tensors whose bytes live in a file beside the model (`model.onnx.data`), as
 * PyTorch's torch.export-based exporter writes every weight by default and `onnx.save_model(…,
 * save_as_external_data=True)` does. Each such tensor is read into its raw_data before anything else
 * looks at the model, so the importer and the weight writer see an ordinary embedded model.
 */
import type { onnx } from 'onnx-proto';
import { UsageError, messageOf } from '../../errors.ts';
import { quote } from './proto.ts';

/** The bytes of an external data file, by its `location` relative to the model's folder. */
export type ExternalDataReader = (location: string) => Uint8Array;

/** TensorProto.DataLocation.EXTERNAL. */
const EXTERNAL = 1;

/**
 * Refuses a location that is absolute or climbs out of the model's folder: a model file must not be
 * able to make xbarsim read arbitrary files (onnx's checker and ONNX Runtime refuse these too).
 */
function checkLocation(location: string, label: string): void {
  const parts = location.split(/[\\/]/);
  const absolute = /^([\\/]|[A-Za-z]:)/.test(location);
  if (!location || absolute || parts.includes('..')) {
    throw new UsageError(`${label}: external data location ${quote(location)} must be a path inside the model's folder (relative, no "..")`);
  }
}

/** A decimal external_data entry (offset, length), or null when absent. */
function byteCount(entries: Map<string, string>, key: string, label: string): number | null {
  const raw = entries.get(key);
  if (raw === undefined) return null;
  const v = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(v)) throw new UsageError(`${label}: external data ${key} ${quote(raw)} is not a whole number of bytes`);
  return v;
}

/** Every TensorProto of a graph (initializers, sparse initializers, node attributes, subgraphs). */
function* graphTensors(g: onnx.IGraphProto): Generator<onnx.ITensorProto> {
  yield* g.initializer ?? [];
  for (const s of g.sparseInitializer ?? []) yield* sparseParts(s);
  yield* nodeTensors(g.node ?? []);
}

function* sparseParts(s: onnx.ISparseTensorProto): Generator<onnx.ITensorProto> {
  if (s.values) yield s.values;
  if (s.indices) yield s.indices;
}

function* nodeTensors(nodes: readonly onnx.INodeProto[]): Generator<onnx.ITensorProto> {
  for (const nd of nodes) {
    for (const a of nd.attribute ?? []) {
      if (a.t) yield a.t;
      yield* a.tensors ?? [];
      if (a.sparseTensor) yield* sparseParts(a.sparseTensor);
      for (const s of a.sparseTensors ?? []) yield* sparseParts(s);
      if (a.g) yield* graphTensors(a.g);
      for (const sub of a.graphs ?? []) yield* graphTensors(sub);
    }
  }
}

/**
 * Reads every externally stored tensor of `model` into its raw_data (offset and length as the
 * tensor's external_data says; no length means to the end of the file). Without a reader, the first
 * such tensor is refused in one line that says how to load the model with its data.
 */
export function embedExternalData(model: onnx.IModelProto, read: ExternalDataReader | undefined, fileLabel: string): void {
  const files = new Map<string, Uint8Array>();
  const tensors = [...(model.graph ? graphTensors(model.graph) : []), ...(model.functions ?? []).flatMap((f) => [...nodeTensors(f.node ?? [])])];
  for (const t of tensors) {
    const entries = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    if (t.dataLocation !== EXTERNAL && entries.size === 0) continue;
    const label = `${fileLabel}: tensor ${quote(t.name)}`;
    const location = entries.get('location') ?? '';
    checkLocation(location, label);
    if (!read) throw new UsageError(`${label} keeps its data in ${quote(location)} beside the model; give the model as a file path (or, in the app, pick the model and its data file together)`);
    let bytes = files.get(location);
    if (!bytes) {
      try {
        bytes = read(location);
      } catch (e) {
        throw new UsageError(`${label} keeps its data in ${quote(location)}, which cannot be read (${messageOf(e)})`);
      }
      files.set(location, bytes);
    }
    const offset = byteCount(entries, 'offset', label) ?? 0;
    const length = byteCount(entries, 'length', label) ?? bytes.length - offset;
    if (offset + length > bytes.length || length < 0) {
      throw new UsageError(`${label}: external data bytes ${offset}–${offset + length} lie past the end of ${quote(location)} (${bytes.length} bytes)`);
    }
    t.rawData = bytes.subarray(offset, offset + length);
    t.dataLocation = 0;
    t.externalData = [];
  }
}
