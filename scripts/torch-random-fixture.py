#!/usr/bin/python3
"""Writes test/fixtures/torch-random/: a VAE whose forward() samples z = mu + exp(logvar / 2)·ε with
torch.randn_like (exported as RandomNormalLike), opset 13, dynamic batch: vae.onnx, one input x.npy
[1, 8] and mean.npy, the decoder of mu (the output's expectation, the decoder being linear) with
std.npy, each output's standard deviation (the decoder's weights times the latent's σ).

  /usr/bin/python3 scripts/torch-random-fixture.py   (Debian's python3-torch, 1.13)
"""
import os

import numpy as np
import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'torch-random')


class Vae(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 4)
        self.decoder = nn.Linear(2, 8)

    def forward(self, x):
        h = self.encoder(x)
        mu, logvar = h[:, :2], h[:, 2:]
        return self.decoder(mu + torch.exp(0.5 * logvar) * torch.randn_like(mu))


torch.manual_seed(0)
model = Vae().eval()
os.makedirs(OUT, exist_ok=True)
x = torch.randn(1, 8)
torch.onnx.export(model, (x,), os.path.join(OUT, 'vae.onnx'), opset_version=13, input_names=['x'], output_names=['y'], dynamic_axes={'x': {0: 'batch'}, 'y': {0: 'batch'}})
with torch.no_grad():
    h = model.encoder(x)
    mu, sigma = h[:, :2], torch.exp(0.5 * h[:, 2:])
    mean = model.decoder(mu)
    std = torch.sqrt(((model.decoder.weight * sigma) ** 2).sum(1, keepdim=True).T)
np.save(os.path.join(OUT, 'x.npy'), x.numpy())
np.save(os.path.join(OUT, 'mean.npy'), mean.numpy())
np.save(os.path.join(OUT, 'std.npy'), std.numpy())
