#!/usr/bin/python3
"""Writes test/fixtures/torch-text/: a small text classifier as PyTorch exports it, the oracle
test/cpu/torch-text.test.ts and test/gpu/torch-text.test.ts hold xbarsim's ONNX import to.

  /usr/bin/python3 scripts/torch-text-fixture.py   (Debian's python3-torch, 1.13)

nn.Embedding (ONNX Gather of the table by token ids), a learned position table, a 2-layer
nn.TransformerEncoder (batch_first, GELU: nn.MultiheadAttention inside, which views its [T, batch, D]
activations as [T, batch*heads, d] and back as [T*batch, D]), LayerNorm, mean over tokens and a Linear
head. text-dynamic.onnx: opset 17 with a symbolic batch; text-static.onnx: opset 13 traced at batch 6
(the batch is a plain number in its Reshape shapes). ids.npy: 6 sequences of 12 token ids (float32,
as xbarsim reads inputs); logits.npy: PyTorch's outputs. Random weights: the test is of the import.
Only needed to regenerate the fixture: xbarsim's tests never run Python.
"""
import os

import numpy as np
import torch
import torch.nn as nn

V, D, T, C, B = 50, 16, 12, 3, 6


class TextClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(V, D)
        self.pos = nn.Parameter(torch.randn(1, T, D) * 0.1)
        layer = nn.TransformerEncoderLayer(D, 2, 32, dropout=0.0, batch_first=True, activation='gelu')
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(D)
        self.head = nn.Linear(D, C)

    def forward(self, ids):
        x = self.emb(ids) + self.pos
        return self.head(self.norm(self.enc(x).mean(1)))


torch.manual_seed(0)
model = TextClassifier().eval()
ids = torch.randint(0, V, (B, T))
with torch.no_grad():
    logits = model(ids)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'torch-text')
os.makedirs(out, exist_ok=True)
torch.onnx.export(model, ids, os.path.join(out, 'text-dynamic.onnx'), opset_version=17, input_names=['ids'], output_names=['logits'],
                  dynamic_axes={'ids': {0: 'batch'}, 'logits': {0: 'batch'}})
torch.onnx.export(model, ids, os.path.join(out, 'text-static.onnx'), opset_version=13, input_names=['ids'], output_names=['logits'])
np.save(os.path.join(out, 'ids.npy'), ids.numpy().astype(np.float32))
np.save(os.path.join(out, 'logits.npy'), logits.numpy())
