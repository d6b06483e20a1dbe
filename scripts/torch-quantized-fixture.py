#!/usr/bin/python3
"""Writes test/fixtures/torch-quantized/<case>/: PyTorch's post-training static int8 quantization
(torch.ao.quantization eager mode: observers calibrated, modules converted to quantized ones), exported
to ONNX as QuantizeLinear/DequantizeLinear around float Conv and Gemm, each as model.onnx with x.npy
(4 inputs) and the quantized model's y.npy. test/cpu/torch-quantized.test.ts runs them through xbarsim.

  /usr/bin/python3 scripts/torch-quantized-fixture.py   (Debian's python3-torch, 1.13)

Random weights, calibrated on random inputs: the tests are of the import. Only needed to regenerate the
fixtures: xbarsim's tests never run Python.
"""
import os

import numpy as np
import torch
import torch.ao.quantization as tq
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'torch-quantized')


class Cnn(nn.Module):
    """Conv+ReLU (fused), a strided Conv, ReLU, global average pooling and a Linear between quant stubs."""

    def __init__(self):
        super().__init__()
        self.quant = tq.QuantStub()
        self.c1 = nn.Conv2d(1, 8, 3, padding=1)
        self.r1 = nn.ReLU()
        self.c2 = nn.Conv2d(8, 16, 3, stride=2)
        self.r2 = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)
        self.dequant = tq.DeQuantStub()

    def forward(self, x):
        x = self.r1(self.c1(self.quant(x)))
        x = self.pool(self.r2(self.c2(x))).flatten(1)
        return self.dequant(self.fc(x))


def quantized(backend):
    """The CNN quantized with `backend`'s default qconfig: fbgemm's per-channel weights and reduced-range
    activations, or qnnpack's per-tensor weights (Debian's torch runs both on its qnnpack engine)."""
    m = Cnn().eval()
    m.qconfig = tq.get_default_qconfig(backend)
    tq.fuse_modules(m, [['c1', 'r1'], ['c2', 'r2']], inplace=True)
    prepared = tq.prepare(m)
    with torch.no_grad():
        for _ in range(8):
            prepared(torch.randn(16, 1, 12, 12))
    return tq.convert(prepared)


def write(name, module, opset):
    x = torch.randn(4, 1, 12, 12)
    with torch.no_grad():
        y = module(x)
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    torch.onnx.export(module, x, os.path.join(d, 'model.onnx'), opset_version=opset, input_names=['x'], output_names=['y'],
                      dynamic_axes={'x': {0: 'batch'}, 'y': {0: 'batch'}})
    np.save(os.path.join(d, 'x.npy'), x.numpy())
    np.save(os.path.join(d, 'y.npy'), y.numpy())


torch.manual_seed(0)
write('ptq-per-channel-13', quantized('fbgemm'), 13)
torch.manual_seed(1)
write('ptq-per-tensor-17', quantized('qnnpack'), 17)
