#!/usr/bin/python3
"""Writes test/fixtures/torch-exports/<case>/: PyTorch exports of the layers and idioms users bring
(nn.MultiheadAttention, a seq-first nn.TransformerEncoderLayer, a static-batch ViT-style class token,
PixelShuffle, repeat, reshape(-1, C), std/var, F.normalize, logsumexp, F.interpolate(size=...),
LPPool2d, the ELU family and PReLU, einsum, a -inf causal mask, LocalResponseNorm's If, cumsum, a position table written by slice assignment in forward(), an nn.LSTMCell loop and a Siamese encoder: modules called more than once; topk; one_hot; arange at opset 9; bicubic interpolation; a 3-D Linear, a Conv + BatchNorm and an nn.LSTM each called twice; a key-padding mask; slice assignment into activations; logic ops, Mod, Trilu and ArgMin; fake quantization; spectral_norm; T5's relative position bias and rotary embeddings; torch.gather; rows picked per sample by h[torch.arange(batch), idx]; a Conv3d video network; a 3-D U-Net with ConvTranspose3d; modules exported as ONNX functions; weights in an external data file; dynamic height, width and sequence axes; opsets 7 and 8; static-batch exports), each as model.onnx with x.npy (4 inputs) and PyTorch's
y.npy. test/cpu/torch-exports.test.ts and test/gpu/torch-exports.test.ts run them through xbarsim.

  /usr/bin/python3 scripts/torch-exports-fixture.py   (Debian's python3-torch, 1.13, and python3-onnx)

Random weights: the tests are of the import. Only needed to regenerate the fixtures: xbarsim's tests
never run Python.
"""
import math
import os
import sys
from typing import List

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'torch-exports')


class Fn(nn.Module):
    """A function of the input and some modules."""

    def __init__(self, f, *mods):
        super().__init__()
        self.f = f
        self.mods = nn.ModuleList(mods)

    def forward(self, x):
        return self.f(x, *self.mods)


class ForwardPositions(nn.Module):
    """A sinusoidal position table built in forward() by slice assignment (ScatterND of constants), then a layer."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        T, D = x.shape[1], x.shape[2]
        pe = torch.zeros(T, D)
        pos = torch.arange(T, dtype=torch.float32).unsqueeze(1)
        div = torch.exp(torch.arange(0, D, 2, dtype=torch.float32) * (-math.log(10000.0) / D))
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        return self.fc(x + pe)


class CellLoop(nn.Module):
    """nn.LSTMCell stepped by a Python loop: each step's Gemms read the same weights (one tied layer each)."""

    def __init__(self):
        super().__init__()
        self.cell = nn.LSTMCell(6, 8)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        h = torch.zeros(x.shape[0], 8)
        c = torch.zeros(x.shape[0], 8)
        for t in range(x.shape[1]):
            h, c = self.cell(x[:, t], (h, c))
        return self.fc(h)


class Siamese(nn.Module):
    """One encoder applied to two halves of the input: its layers are used twice."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4))

    def forward(self, x):
        return self.enc(x[:, 0]) - self.enc(x[:, 1])


class EqualCopies(nn.Module):
    """Two layers with equal weights but different biases: PyTorch dedups the weights (Identity), yet they are two layers."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(6, 5)
        self.b = nn.Linear(6, 5)
        self.b.weight.data.copy_(self.a.weight.data)

    def forward(self, x):
        return self.a(x) + self.b(2 * x)


class ClassToken(nn.Module):
    """Patch embedding, a class token expanded to the batch, two encoder layers, the class token's head."""

    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(3, 16, 4, 4)
        self.cls = nn.Parameter(torch.randn(1, 1, 16) * 0.1)
        self.enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True), 2, enable_nested_tensor=False)
        self.head = nn.Linear(16, 5)

    def forward(self, x):
        p = self.patch(x).flatten(2).transpose(1, 2)
        t = torch.cat([self.cls.expand(x.shape[0], -1, -1), p], 1)
        return self.head(self.enc(t)[:, 0])


def acts():
    layers = []
    for act in (nn.ELU(0.7), nn.SELU(), nn.CELU(1.5), nn.Softplus(), nn.PReLU(8), nn.Mish(), nn.Softsign()):
        layers += [nn.Linear(8, 8), act]
    return nn.Sequential(*layers)


# Weights are drawn as the modules are built: seed first, so the fixtures regenerate identically.
torch.manual_seed(0)
CASES = {
    # name: (module, per-sample input shape, opset, dynamic batch)
    'mha': (Fn(lambda x, m: m(x, x, x)[0], nn.MultiheadAttention(16, 2, batch_first=True)), (5, 16), 11, True),
    'mha-17': (Fn(lambda x, m: m(x, x, x)[0], nn.MultiheadAttention(16, 2, batch_first=True)), (5, 16), 17, True),
    'encoder-seq-first': (Fn(lambda x, m: m(x.transpose(0, 1)).transpose(0, 1), nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0)), (5, 16), 13, True),
    'class-token-static': (ClassToken(), (3, 16, 16), 13, False),
    'pixel-shuffle': (nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.PixelShuffle(2)), (4, 4, 4), 13, True),
    'repeat': (Fn(lambda x: x.repeat(1, 2, 3)), (3, 4), 13, True),
    'reshape-rows': (Fn(lambda x, fc: fc(x.permute(0, 2, 3, 1).reshape(-1, 4)).reshape(x.shape[0], 6, 6, 3).permute(0, 3, 1, 2), nn.Linear(4, 3)), (4, 6, 6), 13, True),
    'std-var': (Fn(lambda x: x.std(-1, keepdim=True) + x.var(1, unbiased=False, keepdim=True)), (6, 8), 13, True),
    'normalize': (Fn(lambda x: F.normalize(x, dim=1)), (6, 8), 13, True),
    'logsumexp': (Fn(lambda x: torch.logsumexp(x * 4, 1)), (6, 8), 13, True),
    'interpolate-size': (Fn(lambda x: F.interpolate(x, size=(7, 9), mode='bilinear', align_corners=False)), (3, 5, 6), 13, True),
    'lppool': (nn.LPPool2d(2, 2), (3, 6, 6), 13, True),
    'activations': (acts(), (8,), 13, True),
    'einsum': (Fn(lambda x, fc: torch.einsum('btc,cd->btd', x, fc.weight.t()), nn.Linear(8, 5)), (6, 8), 13, True),
    # A causal mask as PyTorch writes it: -inf above the diagonal.
    'causal-mask': (Fn(lambda x, m: m(x, src_mask=nn.Transformer.generate_square_subsequent_mask(5)),
                       nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)), (5, 16), 13, True),
}


def later():
    """Cases added later, drawn from their own seed after the first ones so those regenerate unchanged."""
    torch.manual_seed(1)
    return {
        # From opset 11 LocalResponseNorm exports an If on the input's size (folded at import).
        'lrn-11': (nn.Sequential(nn.Conv2d(3, 6, 3), nn.ReLU(), nn.LocalResponseNorm(3)), (3, 7, 7), 11, True),
        'lrn-17': (nn.Sequential(nn.Conv2d(3, 6, 3), nn.ReLU(), nn.LocalResponseNorm(5, alpha=1e-3, beta=0.6, k=1.5)), (3, 7, 7), 17, True),
        # Running sums (position ids from a mask are torch.cumsum(mask, 1) * mask), then a layer.
        'cumsum': (Fn(lambda x, fc: fc(torch.cumsum(x, -1) - 0.5 * torch.cumsum((x > 0).float(), 1) * (x > 0).float()), nn.Linear(6, 3)), (5, 6), 13, True),
        'positions-in-forward': (ForwardPositions(), (5, 16), 13, True),
        'lstmcell-loop': (CellLoop(), (5, 6), 13, True),
        'siamese': (Siamese(), (2, 6), 13, True),
        # The top 3 scores, and the positions of the two smallest inputs.
        # torch.arange at opset 9 is NonZero of ones.
        'arange-9': (Fn(lambda x, fc: fc(x + torch.arange(x.shape[1], dtype=torch.float32).unsqueeze(-1) * 0.1), nn.Linear(4, 3)), (6, 4), 9, True),
        # Modules called twice (tied: one crossbar each), and equal copies that stay two layers.
        'reuse-linear3d': (Fn(lambda x, l: l(x[:, :2]) - l(x[:, 2:]), nn.Linear(6, 5)), (4, 6), 13, True),
        'reuse-conv-bn': (Fn(lambda x, c, b: b(c(x[:, :3])) - b(c(x[:, 3:])), nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)), (6, 8, 8), 13, True),
        'reuse-lstm': (Fn(lambda x, r: r(x[:, :3])[0][:, -1] - r(x[:, 3:])[0][:, -1], nn.LSTM(5, 6, batch_first=True)), (6, 5), 13, True),
        'equal-copies': (EqualCopies(), (6,), 13, True),
        'bicubic': (Fn(lambda x: F.interpolate(x, scale_factor=2, mode='bicubic', align_corners=False)[..., :9, :9]
                       + F.interpolate(x, size=(9, 9), mode='bicubic', align_corners=True)), (2, 5, 6), 13, True),
        'one-hot': (Fn(lambda x, fc: fc(F.one_hot(x.argmax(-1), 6).float()), nn.Linear(6, 3)), (6,), 13, True),
        'topk': (Fn(lambda x, fc: torch.topk(fc(x), 3, dim=-1)[0] + torch.topk(x, 2, dim=-1, largest=False)[1].float().sum(-1, keepdim=True), nn.Linear(8, 6)), (8,), 13, True),
    }


class KeyPadding(nn.Module):
    """Attention with a key-padding mask computed from the input (key 0 always kept, so no row is all masked)."""

    def __init__(self, attn):
        super().__init__()
        self.attn = attn
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        pad = torch.cat([torch.zeros_like(x[:, :1, 0], dtype=torch.bool), x[:, 1:, 0] > 0.5], 1)
        if isinstance(self.attn, nn.MultiheadAttention):
            return self.attn(x, x, x, key_padding_mask=pad)[0]
        return self.head(self.attn(x, src_key_padding_mask=pad)[:, 0])


class SliceAssign(nn.Module):
    """Slice assignment into activations (ScatterND with indices from torch.arange(batch))."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 5)

    def forward(self, x):
        y = self.fc(x).clone()
        y[:, :, 0] = 0
        y[:, 0, :] = y[:, 0, :] * 2
        y[:, 1:3, 2:4] = x[:, :2, :2]
        return y


class FakeQuant(nn.Module):
    """Quantization-aware training's forward: int8 inputs, per-channel int8 weights, uint8 hidden activations (QuantizeLinear/DequantizeLinear)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 6)
        self.fc2 = nn.Linear(6, 3)

    def forward(self, x):
        x = torch.fake_quantize_per_tensor_affine(x, 0.05, 0, -128, 127)
        w = torch.fake_quantize_per_channel_affine(self.fc.weight, torch.full((6,), 0.02), torch.zeros(6, dtype=torch.int32), 0, -128, 127)
        h = torch.fake_quantize_per_tensor_affine(F.relu(F.linear(x, w, self.fc.bias)), 0.03, 10, 0, 255)
        return self.fc2(h)


def t5_bucket(rel, num_buckets=32, max_distance=128):
    """T5's relative position bucket (bidirectional), as Hugging Face writes it."""
    num_buckets //= 2
    ret = (rel > 0).to(torch.long) * num_buckets
    n = torch.abs(rel)
    max_exact = num_buckets // 2
    # log(0) is -inf at distance 0, which the Where below does not pick.
    large = max_exact + (torch.log(n.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)).to(torch.long)
    large = torch.min(large, torch.full_like(large, num_buckets - 1))
    return ret + torch.where(n < max_exact, n, large)


class RelativeBias(nn.Module):
    """Attention scores plus T5's bucketed relative position bias, computed from torch.arange in forward()."""

    def __init__(self):
        super().__init__()
        self.rel = nn.Embedding(32, 2)
        self.qk = nn.Linear(16, 32)

    def forward(self, x):
        B, T, _ = x.shape
        pos = torch.arange(T, dtype=torch.long)
        bias = self.rel(t5_bucket(pos[None, :] - pos[:, None])).permute(2, 0, 1).unsqueeze(0)
        q, k = self.qk(x).view(B, T, 2, 16).transpose(1, 2).chunk(2, -1)
        return F.softmax(q @ k.transpose(-1, -2) + bias, -1)


class Rotary(nn.Module):
    """Rotary position embeddings (RoPE): angles from torch.einsum('i,j->ij', positions, inverse frequencies)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 16)
        self.register_buffer('inv', 1.0 / (10000 ** (torch.arange(0, 16, 2).float() / 16)))

    def forward(self, x):
        f = torch.einsum('i,j->ij', torch.arange(x.shape[1], dtype=self.inv.dtype), self.inv)
        emb = torch.cat((f, f), -1)
        h = self.fc(x)
        return h * emb.cos()[None] + torch.cat((-h[..., 8:], h[..., :8]), -1) * emb.sin()[None]


class RowPick(nn.Module):
    """One row per sample picked by a data-dependent index: CLIP's end-of-text token and a classifier's last real token."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 6)

    def forward(self, x):
        h = self.fc(x)
        b = torch.arange(h.shape[0])
        last = (x[..., 1] > -0.5).sum(-1).clamp(min=1) - 1
        return h[b, x[..., 0].argmax(dim=-1)] + h[b, last] * 2


class Video(nn.Module):
    """A small video network (torchvision's r3d/r2plus1d blocks): Conv3d with BatchNorm3d, strides, depth padding and dilation, groups, MaxPool3d, AdaptiveAvgPool3d."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv3d(3, 8, (3, 3, 3), stride=(1, 2, 2), padding=(1, 1, 1), bias=False), nn.BatchNorm3d(8), nn.ReLU())
        self.spatial = nn.Conv3d(8, 8, (1, 3, 3), padding=(0, 1, 1), groups=2)
        self.temporal = nn.Conv3d(8, 12, (3, 1, 1), stride=(2, 1, 1), padding=(2, 0, 0), dilation=(2, 1, 1))
        self.bn = nn.BatchNorm3d(12)
        self.pool = nn.MaxPool3d((2, 2, 2), stride=(1, 2, 2), padding=(1, 0, 0))
        self.fc = nn.Linear(12, 5)
        for bn in (self.stem[1], self.bn):
            # Trained-looking statistics, so folding them into the crossbar weights is tested.
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            nn.init.uniform_(bn.weight, 0.5, 1.5)
            nn.init.uniform_(bn.bias, -0.2, 0.2)

    def forward(self, x):
        h = torch.relu(self.spatial(self.stem(x)))
        h = self.pool(self.bn(self.temporal(h)) + 0.1)
        return self.fc(F.adaptive_avg_pool3d(h, 1).flatten(1))


class ScriptedRnn(nn.Module):
    """A scripted loop over the time axis (range(x.size(1)): an ONNX Loop with a carried state, a list of
    outputs as a sequence, and the layer called at every step)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        outs: List[torch.Tensor] = []
        h = torch.zeros_like(x[:, 0])
        for i in range(x.size(1)):
            h = torch.tanh(self.fc(x[:, i]) + h)
            outs.append(h * float(i + 1))
        return torch.stack(outs, 1) + h.unsqueeze(1)


class ScriptedUnbind(nn.Module):
    """torch.unbind and a loop over its parts in a scripted module: SplitToSequence, SequenceLength, SequenceAt."""

    def forward(self, x):
        parts = torch.unbind(x, 1)
        acc = torch.zeros_like(parts[0])
        outs: List[torch.Tensor] = []
        for p in parts:
            acc = acc * 0.5 + p
            outs.append(acc)
        halves = torch.split(x, 3, 1)
        return torch.cat([torch.stack(outs, 1), torch.cat([halves[1], halves[0]], 1)], 2)


class TensorSplit(nn.Module):
    """torch.tensor_split at an index (MViT's pooling splits off the class token): a Loop of Slices into a sequence."""

    def forward(self, x):
        a, b = torch.tensor_split(x, (1,), dim=2)
        return a * 2 + b.sum(2, keepdim=True)


class GridSample(nn.Module):
    """F.grid_sample on a flow field from the data, pushed past the borders: every mode, padding and align_corners."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3, padding=1)

    def forward(self, x):
        g = 1.6 * torch.tanh(F.interpolate(self.conv(x), size=(4, 6), mode='bilinear', align_corners=False)).permute(0, 2, 3, 1)
        return torch.cat([F.grid_sample(x, g, mode=mode, padding_mode=pad, align_corners=ac)
                          for mode in ('bilinear', 'nearest', 'bicubic') for pad in ('zeros', 'border', 'reflection') for ac in (False, True)], 1)


class Scatters(nn.Module):
    """torch.scatter (an inverse permutation, a one-hot) and scatter_add with repeated indices; then a layer."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        order = x.argsort(1)
        inverse = torch.zeros_like(x).scatter(1, order, x)
        onehot = torch.zeros_like(x).scatter(1, x.argmax(1, keepdim=True), 1.0)
        added = torch.zeros_like(x).scatter_add(1, (x > 0).long() * 2, x)
        return self.fc(inverse + onehot + added)


class Indexing(nn.Module):
    """torch.diagonal (EyeLike, GatherND with the batch as batch dim) and x[:, rows, cols] (the batch moved last, Flatten, Gather)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4 + 3 + 10, 2)

    def forward(self, x):
        rows, cols = torch.triu_indices(4, 4)
        picked = x[:, torch.tensor([0, 1, 3]), torch.tensor([2, 0, 3])]
        return self.fc(torch.cat([torch.diagonal(x, dim1=1, dim2=2), picked, x[:, rows, cols]], 1))


class UNet3d(nn.Module):
    """A small 3-D U-Net (Çiçek et al. 2016, medical volumes): Conv3d, MaxPool3d, a ConvTranspose3d up-convolution, a skip concat."""

    def __init__(self):
        super().__init__()
        self.down = nn.Sequential(nn.Conv3d(1, 4, 3, padding=1), nn.BatchNorm3d(4), nn.ReLU())
        self.bottom = nn.Sequential(nn.MaxPool3d(2), nn.Conv3d(4, 8, 3, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose3d(8, 4, 2, stride=2)
        self.out = nn.Conv3d(8, 2, 1)

    def forward(self, x):
        h = self.down(x)
        return self.out(torch.cat((h, self.up(self.bottom(h))), 1))


class Residual(nn.Module):
    """A module called as a function: Conv (BatchNorm folded at export), LeakyReLU and a skip."""

    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.bn = nn.BatchNorm2d(c)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x):
        return self.act(self.bn(self.conv(x))) + x


class Modular(nn.Module):
    """Modules within modules, each exported as an ONNX function with export_modules_as_functions."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3)
        self.b1 = Residual(4)
        self.b2 = Residual(4)
        self.act = nn.GELU()
        self.head = nn.Linear(4 * 6 * 6, 5)

    def forward(self, x):
        return self.head(self.act(torch.flatten(self.b2(self.b1(self.stem(x))), 1)))


def latest():
    """Cases added after later()'s, from their own seed."""
    torch.manual_seed(2)
    return {
        # src_key_padding_mask: zeros_like and a Cast over attention's [batch·heads, 1, T] view.
        'key-padding-mask': (KeyPadding(nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True), 2, enable_nested_tensor=False)), (5, 16), 13, True),
        'key-padding-mask-mha-17': (KeyPadding(nn.MultiheadAttention(16, 2, batch_first=True)), (5, 16), 17, True),
        'slice-assign': (SliceAssign(), (4, 6), 13, True),
        'slice-assign-17': (SliceAssign(), (4, 6), 17, True),
        # And, Or, Xor, GreaterOrEqual, LessOrEqual and Mod (fmod and Python's %), then a layer.
        'logic-mod-17': (Fn(lambda x, fc: fc(((x > 0) & (x < 1)).float() + ((x < -1) | (x > 1)).float() + ((x > 0) ^ (x > 0.5)).float()
                                            + (x >= 0).float() * 2 + (x <= 0.5).float() + torch.fmod(x, 0.3) + torch.remainder(x, 0.7)), nn.Linear(8, 3)), (8,), 17, True),
        # Trilu on activations (opset 14 and later) and ArgMin.
        'tril-argmin-17': (Fn(lambda x: torch.tril(x) + torch.triu(x, 1) * 2 + x.argmin(-1, keepdim=True).float()), (5, 5), 17, True),
        'fake-quant': (FakeQuant(), (8,), 13, True),
        # spectral_norm's weight is W / σ with σ = uᵀ·W·v computed in the graph: MatMuls of constants.
        'spectral-norm': (nn.Sequential(nn.utils.spectral_norm(nn.Linear(8, 6)), nn.ReLU(), nn.Linear(6, 3)), (8,), 13, True),
        'relative-bias': (RelativeBias(), (6, 16), 13, True),
        'rotary': (Rotary(), (6, 16), 13, True),
        # torch.gather with indices from the data (topk, argmax) and with fixed ones expanded to the batch.
        'gather-elements': (Fn(lambda x, fc: fc(torch.gather(x, 1, torch.topk(x, 3, 1)[1]) + torch.gather(x, 1, x.argmax(1, keepdim=True))
                                                + torch.gather(x, 1, torch.tensor([[5, 0, 2]]).expand(x.shape[0], 3))), nn.Linear(3, 2)), (8,), 13, True),
        'row-pick': (RowPick(), (5, 6), 13, True),
        'row-pick-17': (RowPick(), (5, 6), 17, True),
        'video-conv3d': (Video(), (3, 6, 10, 10), 13, True),
        'unet3d-17': (UNet3d(), (1, 4, 6, 6), 17, True),
        'scripted-rnn-loop': (torch.jit.script(ScriptedRnn()), (5, 4), 13, True),
        'scripted-unbind-11': (torch.jit.script(ScriptedUnbind()), (6, 4), 11, True),
        'tensor-split-17': (TensorSplit(), (3, 5), 17, True),
        'grid-sample-16': (GridSample(), (2, 5, 7), 16, True),
        'scatter-elements-16': (Scatters(), (6,), 16, True),
        'indexing-17': (Indexing(), (4, 4), 17, True),
        # Every module an ONNX function (calls nest three deep, attributes passed by reference).
        'module-functions-15': (Modular(), (3, 8, 8), 15, True, {'export_modules_as_functions': True}),
        # Weights in model.onnx.data beside the model, as torch.export-based exports keep them.
        'external-data-17': (Modular(), (3, 8, 8), 17, True, {'external_data': True}),
    }


class DynamicNet(nn.Module):
    """A CNN for any height and width: a strided conv, a residual block, an upsampled skip, a global pool and a head."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.block = Residual(8)
        self.down = nn.MaxPool2d(2)
        self.mix = nn.Conv2d(16, 8, 1)
        self.head = nn.Linear(8, 5)

    def forward(self, x):
        h = self.block(self.stem(x))
        up = F.interpolate(self.down(h), size=h.shape[2:], mode='bilinear', align_corners=False)
        h = self.mix(torch.cat([h, up], 1))
        return self.head(F.adaptive_avg_pool2d(h, 1).flatten(1))


class DynamicSeq(nn.Module):
    """A sequence model for any length: a TransformerEncoder layer, mean pooling over the sequence and a head."""

    def __init__(self):
        super().__init__()
        self.enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True), 1, enable_nested_tensor=False)
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        return self.head(self.enc(x).mean(1))


def dynamic_dims():
    """Exports with dynamic per-sample dims (height and width, sequence length), each run at a size other than the exported one."""
    torch.manual_seed(3)
    hw = {'axes': {2: 'height', 3: 'width'}, 'run_shape': (3, 24, 40)}
    return {
        'dynamic-hw-11': (DynamicNet(), (3, 32, 32), 11, True, hw),
        'dynamic-hw-17': (DynamicNet(), (3, 32, 32), 17, True, hw),
        'dynamic-seq-13': (DynamicSeq(), (12, 16), 13, True, {'axes': {1: 'sequence'}, 'run_shape': (9, 16)}),
    }


class ConvLstm(nn.Module):
    """Conv, BatchNorm, ReLU and MaxPool, the feature map's rows as a sequence through an LSTM, and a head on its last step."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2), nn.AvgPool2d(2, 1))
        self.rnn = nn.LSTM(6 * 2, 8, batch_first=True)
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        h = self.features(x)
        seq = h.permute(0, 2, 1, 3).reshape(h.shape[0], h.shape[2], -1)
        return self.head(self.rnn(seq)[0][:, -1])


class Blocks(nn.Module):
    """Residual blocks, a strided conv, a global average pool, dropout and a log-softmax head."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.blocks = nn.Sequential(Residual(8), nn.Conv2d(8, 8, 3, stride=2), Residual(8))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(8, 5), nn.LogSoftmax(-1))

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


def old_opsets():
    """Exports at old opsets: 7 and 8 (PyTorch 1.13's oldest; ConstantFill for an LSTM's zero state, BatchNormalization-7, Dropout-7), and Scatter at 9 and 10."""
    torch.manual_seed(4)
    return {
        'conv-lstm-7': (ConvLstm(), (3, 8, 6), 7, True),
        'blocks-8': (Blocks(), (3, 12, 12), 8, True),
        # torch.scatter before opset 11 is Scatter, ScatterElements' former name.
        'scatter-9': (Fn(lambda x, fc: fc(torch.zeros_like(x).scatter(1, x.topk(6, 1)[1], x) + torch.zeros_like(x).scatter(1, x.argmax(1, keepdim=True), 1.0)), nn.Linear(6, 3)), (6,), 9, True),
        'scatter-10': (Fn(lambda x, fc: fc(torch.zeros_like(x).scatter(1, x.topk(6, 1)[1], x) + torch.zeros_like(x).scatter(1, x.argmax(1, keepdim=True), 1.0)), nn.Linear(6, 3)), (6,), 10, True),
    }


def static_batch():
    """torch.onnx.export's default, a static batch: constants the trace wrote out once per sample (torch.zeros_like(x), an LSTMCell's zero state, expanded indices, slice-assignment indices, torch.arange(batch))."""
    torch.manual_seed(5)
    return {
        'lstmcell-loop-static': (CellLoop(), (5, 6), 13, False),
        'slice-assign-static': (SliceAssign(), (4, 6), 13, False),
        'gather-elements-static': (Fn(lambda x, fc: fc(torch.gather(x, 1, torch.topk(x, 3, 1)[1]) + torch.gather(x, 1, torch.tensor([[5, 0, 2]]).expand(x.shape[0], 3))), nn.Linear(3, 2)), (8,), 13, False),
        'scatter-elements-16-static': (Scatters(), (6,), 16, False),
        'scripted-rnn-loop-static': (torch.jit.script(ScriptedRnn()), (5, 4), 13, False),
        # h[torch.arange(batch), idx] with the traced batch: arange a constant [4].
        'row-pick-static': (RowPick(), (5, 6), 13, False),
        # The key-padding mask over attention's merged [batch·heads, 1, T]: a constant [8, 1, 5].
        'key-padding-mask-mha-static': (KeyPadding(nn.MultiheadAttention(16, 2, batch_first=True)), (5, 16), 17, False),
    }


def export(cases, x_seed=None):
    """Writes each case (only those named on the command line, when some are); with x_seed, case i's inputs are drawn from seed x_seed + i, so adding a case leaves the others' unchanged."""
    for i, (name, (module, shape, opset, dynamic, *options)) in enumerate(cases.items()):
        if x_seed is not None:
            torch.manual_seed(x_seed + i)
        if len(sys.argv) > 1 and name not in sys.argv[1:]:
            continue
        write(name, module, shape, opset, dynamic, **(options[0] if options else {}))


def write(name, module, shape, opset, dynamic, external_data=False, axes=None, run_shape=None, **export_options):
    """Exports `module` at inputs of `shape` (batch 4) with dynamic dims `axes` besides the batch; x.npy and y.npy are at `run_shape` (default: `shape`)."""
    module.eval()
    x = torch.randn(4, *shape)
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    dims = {0: 'batch', **(axes or {})}
    dynamic_axes = {'x': dims, 'y': {0: 'batch'}} if dynamic else None
    path = os.path.join(d, 'model.onnx')
    torch.onnx.export(module, x, path, opset_version=opset, input_names=['x'], output_names=['y'], dynamic_axes=dynamic_axes, **export_options)
    if run_shape is not None:
        x = torch.randn(4, *run_shape)
    with torch.no_grad():
        y = module(x)
    if external_data:
        import onnx  # Debian's python3-onnx, only for this case
        onnx.save_model(onnx.load(path), path, save_as_external_data=True, all_tensors_to_one_file=True, location='model.onnx.data', size_threshold=0)
    np.save(os.path.join(d, 'x.npy'), x.numpy())
    np.save(os.path.join(d, 'y.npy'), y.numpy())


export(CASES)
export(later())
export(latest(), x_seed=100)
export(dynamic_dims(), x_seed=200)
export(old_opsets(), x_seed=300)
export(static_batch(), x_seed=400)
