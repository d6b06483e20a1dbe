#!/usr/bin/python3
"""Writes test/fixtures/float16/: one small CNN (Conv, BatchNorm, ReLU, AveragePool, Linear, Softmax) in
the two 16-bit forms users bring.

- model-bf16.onnx: PyTorch's own export of the model cast to torch.bfloat16 (bfloat16 initializers
  and a bfloat16 graph input and output); x-bf16.npy holds inputs exactly representable in bfloat16,
  as float32 (numpy has no bfloat16).
- model-fp16.onnx: the float32 export converted the way onnxconverter-common's
  convert_float_to_float16 does with keep_io_types=False (every float initializer, Constant, Cast
  target, value_info and graph input and output float16), since PyTorch 1.13 cannot run a float16
  Conv on the CPU to trace it; x-fp16.npy is float16 ('<f2').

y-<form>.npy: what xbarsim computes, 16-bit tensors widened and the arithmetic in f32: the float32
network (BatchNorm folded, as the export wrote it) with the file's own 16-bit weights, on the same
inputs.

  /usr/bin/python3 scripts/float16-fixture.py   (Debian's python3-torch, 1.13, and python3-onnx)
"""
import io
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import TensorProto, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'float16')


def network():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 10), nn.Softmax(-1))
    # Statistics that are not the identity, so BatchNorm's fold is exercised.
    m[1].running_mean.uniform_(-0.5, 0.5)
    m[1].running_var.uniform_(0.5, 2.0)
    return m.eval()


def to_float16(model):
    """convert_float_to_float16(model, keep_io_types=False) for a graph of ops that all take float16."""
    def tensor(t):
        if t.data_type == TensorProto.FLOAT:
            t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), t.name))
    g = model.graph
    for t in g.initializer:
        tensor(t)
    for n in g.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                tensor(a.t)
            if n.op_type == 'Cast' and a.name == 'to' and a.i == TensorProto.FLOAT:
                a.i = TensorProto.FLOAT16
    for v in list(g.value_info) + list(g.input) + list(g.output):
        if v.type.tensor_type.elem_type == TensorProto.FLOAT:
            v.type.tensor_type.elem_type = TensorProto.FLOAT16
    return model


os.makedirs(OUT, exist_ok=True)
torch.manual_seed(1)
x = torch.randn(4, 3, 8, 8)
def from_file(path):
    """The exported graph (Conv, Relu, AveragePool, Flatten, Gemm, Softmax) in float32 with the file's weights."""
    g = onnx.load(path).graph
    w = {t.name: torch.from_numpy(numpy_helper.to_array(t).astype(np.float32)) for t in g.initializer}
    conv, gemm = (next(n for n in g.node if n.op_type == op) for op in ('Conv', 'Gemm'))
    m = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 10), nn.Softmax(-1))
    with torch.no_grad():
        m[0].weight.copy_(w[conv.input[1]])
        m[0].bias.copy_(w[conv.input[2]])
        m[4].weight.copy_(w[gemm.input[1]])
        m[4].bias.copy_(w[gemm.input[2]])
    return m.eval()


for form, dtype in (('bf16', torch.bfloat16), ('fp16', torch.float16)):
    m = network()
    x16 = x.to(dtype)
    path = os.path.join(OUT, f'model-{form}.onnx')
    if form == 'bf16':
        torch.onnx.export(m.to(dtype), (x16,), path, opset_version=17, input_names=['x'], output_names=['y'], dynamic_axes={'x': {0: 'batch'}, 'y': {0: 'batch'}})
        np.save(os.path.join(OUT, 'x-bf16.npy'), x16.float().numpy())
    else:
        buf = io.BytesIO()
        torch.onnx.export(m, (x,), buf, opset_version=17, input_names=['x'], output_names=['y'], dynamic_axes={'x': {0: 'batch'}, 'y': {0: 'batch'}})
        onnx.save(to_float16(onnx.load_from_string(buf.getvalue())), path)
        np.save(os.path.join(OUT, 'x-fp16.npy'), x16.numpy())
    with torch.no_grad():
        y = from_file(path)(x16.float())
    np.save(os.path.join(OUT, f'y-{form}.npy'), y.numpy())
