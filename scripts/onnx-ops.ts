// Prints a JSON summary of an ONNX file (opset, op counts, float parameters in initializers and
// Constant nodes) using xbarsim's own protobuf decoder, so scripts/train-fashion.py can document its
// exports without the Python onnx package. Usage: node --import ./bin/register.js scripts/onnx-ops.ts FILE
import { readFileSync } from 'node:fs';
import { decodeModel } from '../src/io/onnx/decode.ts';
import { DataType, int64ToNumber } from '../src/io/onnx/proto.ts';
import type { onnx } from 'onnx-proto';

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: onnx-ops.ts FILE.onnx\n');
  process.exit(2);
}
const model = decodeModel(new Uint8Array(readFileSync(file)), file);
const ops: Record<string, number> = {};
const floats = (t: onnx.ITensorProto): number => (t.dataType === DataType.FLOAT ? (t.dims ?? []).map(int64ToNumber).reduce((a, b) => a * b, 1) : 0);
let params = model.graph.initializer.reduce((s, t) => s + floats(t), 0);
for (const node of model.graph.node) {
  const op = node.opType ?? '';
  ops[op] = (ops[op] ?? 0) + 1;
  // Constant nodes that carry float tensors with more than one value are weights folded by the exporter.
  for (const a of node.attribute) if (op === 'Constant' && a.t && floats(a.t) > 1) params += floats(a.t);
}
const opset = model.opsetImport.filter((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx').map((o) => int64ToNumber(o.version))[0] ?? 0;
process.stdout.write(`${JSON.stringify({ opset, ops, params, nodes: model.graph.node.length, initializers: model.graph.initializer.length })}\n`);
