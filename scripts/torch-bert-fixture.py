#!/usr/bin/python3
"""Writes test/fixtures/torch-bert/: a BERT-style classifier written the way Hugging Face's BertModel is
(word, position and token-type embeddings with the positions sliced from a buffer by the sequence
length; an additive mask (1 - attention_mask) * finfo.min over [batch, 1, 1, T]; per-head views
[B, T, H, d] permuted to [B, H, T, d]; erf GELU; the pooler's tanh over the first token), exported as
transformers' ONNX exports are: three int64 inputs input_ids, attention_mask and token_type_ids with
dynamic batch and sequence axes. model-<opset>.onnx for opsets 14 and 17; inputs.npz holds three
sequences of length 11 (two padded; the export traced length 16) and logits.npy PyTorch's output.

  /usr/bin/python3 scripts/torch-bert-fixture.py   (Debian's python3-torch, 1.13)

Random weights: the tests are of the import. Only needed to regenerate the fixture: xbarsim's tests
never run Python.
"""
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'torch-bert')
VOCAB, DIM, HEADS, FFN, POSITIONS = 50, 32, 4, 64, 64


class Embeddings(nn.Module):
    def __init__(self):
        super().__init__()
        self.word = nn.Embedding(VOCAB, DIM)
        self.position = nn.Embedding(POSITIONS, DIM)
        self.token_type = nn.Embedding(2, DIM)
        self.norm = nn.LayerNorm(DIM, eps=1e-12)
        self.register_buffer('position_ids', torch.arange(POSITIONS).expand((1, -1)))

    def forward(self, ids, token_types):
        positions = self.position_ids[:, :ids.shape[1]]
        return self.norm(self.word(ids) + self.position(positions) + self.token_type(token_types))


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(DIM, DIM) for _ in range(4))
        self.norm1 = nn.LayerNorm(DIM, eps=1e-12)
        self.up = nn.Linear(DIM, FFN)
        self.down = nn.Linear(FFN, DIM)
        self.norm2 = nn.LayerNorm(DIM, eps=1e-12)

    def heads(self, x):
        b, t, _ = x.shape
        return x.view(b, t, HEADS, DIM // HEADS).permute(0, 2, 1, 3)

    def forward(self, x, mask):
        q, k, v = self.heads(self.q(x)), self.heads(self.k(x)), self.heads(self.v(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(DIM // HEADS) + mask
        ctx = torch.matmul(F.softmax(scores, -1), v).permute(0, 2, 1, 3).contiguous()
        ctx = ctx.view(ctx.shape[0], ctx.shape[1], DIM)
        x = self.norm1(x + self.o(ctx))
        return self.norm2(x + self.down(F.gelu(self.up(x))))


class Bert(nn.Module):
    def __init__(self):
        super().__init__()
        self.embeddings = Embeddings()
        self.layers = nn.ModuleList([Layer(), Layer()])
        self.pooler = nn.Linear(DIM, DIM)
        self.classifier = nn.Linear(DIM, 3)

    def forward(self, input_ids, attention_mask, token_type_ids):
        mask = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        x = self.embeddings(input_ids, token_type_ids)
        for layer in self.layers:
            x = layer(x, mask)
        return self.classifier(torch.tanh(self.pooler(x[:, 0])))


torch.manual_seed(0)
model = Bert().eval()
os.makedirs(OUT, exist_ok=True)
names = ['input_ids', 'attention_mask', 'token_type_ids']
traced = (torch.randint(0, VOCAB, (2, 16)), torch.ones(2, 16, dtype=torch.long), torch.zeros(2, 16, dtype=torch.long))
axes = {**{n: {0: 'batch', 1: 'sequence'} for n in names}, 'logits': {0: 'batch'}}
for opset in (14, 17):
    torch.onnx.export(model, traced, os.path.join(OUT, f'model-{opset}.onnx'), opset_version=opset, input_names=names, output_names=['logits'], dynamic_axes=axes)

ids = torch.randint(0, VOCAB, (3, 11))
mask = torch.ones(3, 11, dtype=torch.long)
mask[1, 7:] = 0
mask[2, 4:] = 0
types = torch.zeros(3, 11, dtype=torch.long)
types[:, 6:] = 1
with torch.no_grad():
    logits = model(ids, mask, types)
np.savez(os.path.join(OUT, 'inputs.npz'), input_ids=ids.numpy(), attention_mask=mask.numpy(), token_type_ids=types.numpy())
np.save(os.path.join(OUT, 'logits.npy'), logits.numpy())
