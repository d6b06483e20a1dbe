#!/usr/bin/python3
"""Writes test/fixtures/crosssim-isaac/{W,X,Y}.npy: one layer run through Sandia CrossSim 3.2.0's own
ISAAC preset (simulator/configs/ISAAC.json at commit 0a2eb1eda183326ef4d98d792995c721105d3726), the
oracle test/cpu/crosssim.test.ts holds xbarsim's `crosssim-isaac` preset to.

  CROSSSIM=/path/to/cross-sim python3 scripts/crosssim-isaac-fixture.py

W is [K, N] in xbarsim's orientation (CrossSim's AnalogCore takes W.T, outputs by inputs); X is
[B, K] with signed inputs in CrossSim's fixed ISAAC input range +-152 (one entry at +152, so
xbarsim's calibrated input scale max|X|/(2^15 - 1) lands on the same grid); Y = CrossSim's output
[B, N]. K = 256 inputs are two 128-row arrays in both tools (CrossSim's EQUAL partition of 256 is
128 + 128). Only needed to regenerate the fixture: xbarsim's tests never run Python.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.environ.get('CROSSSIM', '/tmp/cs'))
from simulator import AnalogCore, CrossSimParameters  # noqa: E402

K, N, B = 256, 24, 6
rng = np.random.default_rng(16)
W = rng.normal(size=(K, N))
X = rng.uniform(-152.0, 152.0, size=(B, K))
X[0, 0] = 152.0
p = CrossSimParameters.from_json('ISAAC.json')
core = AnalogCore(W.T.copy(), p)
Y = np.stack([core @ X[b] for b in range(B)])
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'crosssim-isaac')
os.makedirs(out, exist_ok=True)
for name, a in (('W', W), ('X', X), ('Y', Y)):
    np.save(os.path.join(out, f'{name}.npy'), a.astype('<f8'))
wmax = np.abs(W).max()
Wq = np.rint(W / wmax * (2**15 - 1)) / (2**15 - 1) * wmax
Xq = np.rint(np.clip(X / 152.0, -1, 1) * (2**15 - 1)) / (2**15 - 1) * 152.0
print('CrossSim / exact quantized product: median', np.median(Y / (Xq @ Wq)), 'cores', core.Ncores)
