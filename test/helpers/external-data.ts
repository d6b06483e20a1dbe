/**
 * ONNX models rewritten with every initializer in an external data file, as
 * `onnx.save_model(…, save_as_external_data=True)` writes them (offsets in file order, one file).
 */
import type { onnx } from 'onnx-proto';
import { proto } from '../../src/io/onnx/proto.ts';

/** The raw little-endian bytes of a float32 or raw_data tensor. */
function rawBytes(t: onnx.ITensorProto): Uint8Array {
  if (t.rawData && t.rawData.length > 0) return t.rawData;
  const f = Float32Array.from(t.floatData ?? []);
  return new Uint8Array(f.buffer);
}

/** `bytes` with its initializers moved to one external file `location` (`align`: offsets padded to a multiple). */
export function externalize(bytes: Uint8Array, location: string, align = 1): { model: Uint8Array; data: Uint8Array } {
  const m = proto.ModelProto.decode(bytes);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const t of m.graph?.initializer ?? []) {
    const raw = rawBytes(t);
    const pad = (align - (at % align)) % align;
    parts.push(new Uint8Array(pad), raw);
    at += pad;
    t.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(at) },
      { key: 'length', value: String(raw.length) },
    ];
    t.dataLocation = 1;
    t.rawData = new Uint8Array(0);
    t.floatData = [];
    at += raw.length;
  }
  const data = new Uint8Array(at);
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length;
  }
  return { model: proto.ModelProto.encode(m).finish(), data };
}
