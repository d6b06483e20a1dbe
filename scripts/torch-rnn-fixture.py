#!/usr/bin/python3
"""Writes test/fixtures/torch-rnn/<case>/: PyTorch exports of nn.LSTM, nn.GRU and nn.RNN as users
bring them (seq-first and batch_first, stacked, bidirectional, a head on the last step or on h_n,
h_n of both directions concatenated, a mean over time, the whole output sequence, opsets 11 to 17, a
static batch (torch.onnx.export's default),
the initial state as graph inputs), each as model.onnx with x.npy (4 samples, or
x.npy, h0.npy, c0.npy for the state inputs) and PyTorch's y.npy. test/cpu/torch-rnn.test.ts and
test/gpu/torch-rnn.test.ts run them through xbarsim.

  /usr/bin/python3 scripts/torch-rnn-fixture.py   (Debian's python3-torch, 1.13)

Random weights: the tests are of the import. Only needed to regenerate the fixtures: xbarsim's tests
never run Python.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'torch-rnn')
T, I, H, C = 7, 5, 6, 3


class LastStep(nn.Module):
    """A recurrent layer and a Linear head on its last output (seq-first: out[-1]; batch_first: out[:, -1])."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn
        self.head = nn.Linear(rnn.hidden_size * (2 if rnn.bidirectional else 1), C)

    def forward(self, x):
        # xbarsim's graph inputs are batch-first: a seq-first layer gets x transposed inside the model.
        out = self.rnn(x if self.rnn.batch_first else x.transpose(0, 1))[0]
        return self.head(out[:, -1] if self.rnn.batch_first else out[-1])


class LastState(nn.Module):
    """A stacked LSTM and a Linear head on the top layer's final state h_n[-1]."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn
        self.head = nn.Linear(rnn.hidden_size, C)

    def forward(self, x):
        return self.head(self.rnn(x)[1][0][-1])


class Fn(nn.Module):
    """A function of the input and one recurrent module."""

    def __init__(self, f, rnn):
        super().__init__()
        self.f = f
        self.rnn = rnn

    def forward(self, x):
        return self.f(x, self.rnn)


class WithState(nn.Module):
    """A seq-first LSTM fed its initial state by the caller (batch-first h0, c0 [batch, H]), returning the whole output sequence batch-first."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(I, H)

    def forward(self, x, h0, c0):
        return self.rnn(x.transpose(0, 1), (h0.unsqueeze(0), c0.unsqueeze(0)))[0].transpose(0, 1)


class LearnedState(nn.Module):
    """A learned initial state broadcast to the batch, by expand or by repeat, then the last step's output."""

    def __init__(self, rnn, repeat):
        super().__init__()
        self.rnn = rnn
        self.h0 = nn.Parameter(torch.randn(1, 1, H))
        self.repeat = repeat

    def forward(self, x):
        h0 = self.h0.repeat(1, x.shape[0], 1) if self.repeat else self.h0.expand(1, x.shape[0], H).contiguous()
        return self.rnn(x, h0)[0][:, -1]


# Weights are drawn as the modules are built: seed first, so the fixtures regenerate identically.
torch.manual_seed(0)
CASES = {
    # name: (module, opset); every input is batch-first [batch, T, I]
    'lstm': (LastStep(nn.LSTM(I, H)), 13),
    'lstm-2layer-batch-first': (LastState(nn.LSTM(I, H, num_layers=2, batch_first=True)), 13),
    'lstm-bidirectional': (LastStep(nn.LSTM(I, H, bidirectional=True)), 13),
    'gru': (LastStep(nn.GRU(I, H, batch_first=True)), 13),
    'rnn-tanh': (LastStep(nn.RNN(I, H)), 13),
    'rnn-relu': (LastStep(nn.RNN(I, H, nonlinearity='relu', batch_first=True)), 13),
    'lstm-17': (LastStep(nn.LSTM(I, H, batch_first=True)), 17),
    'lstm-11': (LastStep(nn.LSTM(I, H, num_layers=2, bidirectional=True)), 11),
    'gru-bidirectional-2layer': (LastStep(nn.GRU(I, H, num_layers=2, bidirectional=True, batch_first=True)), 14),
    # Other ways users read the results: both directions' final states side by side, a mean over
    # seq-first time steps, the whole bidirectional output sequence.
    'lstm-bidirectional-hn-cat': (Fn(lambda x, r: (lambda h: torch.cat([h[-2], h[-1]], 1))(r(x)[1][0]), nn.LSTM(I, H, bidirectional=True, batch_first=True)), 13),
    'gru-mean-seq-first': (Fn(lambda x, r: r(x.transpose(0, 1))[0].mean(0), nn.GRU(I, H)), 13),
    'lstm-bidirectional-sequence': (Fn(lambda x, r: r(x)[0], nn.LSTM(I, H, batch_first=True, bidirectional=True)), 13),
}

def export(cases, dynamic=True):
    """Writes each case (only those named on the command line, when some are), with a dynamic batch or the traced one."""
    for name, (module, opset) in cases.items():
        write(name, module, opset, dynamic, len(sys.argv) == 1 or name in sys.argv[1:])


def write(name, module, opset, dynamic, save):
    module.eval()
    x = torch.randn(4, T, I)
    if not save:
        return
    with torch.no_grad():
        y = module(x)
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    axes = {'x': {0: 'batch'}, 'y': {0: 'batch'}} if dynamic else None
    torch.onnx.export(module, x, os.path.join(d, 'model.onnx'), opset_version=opset, input_names=['x'], output_names=['y'], dynamic_axes=axes)
    np.save(os.path.join(d, 'x.npy'), x.numpy())
    np.save(os.path.join(d, 'y.npy'), y.numpy())


export(CASES)

# The initial state as graph inputs: x [batch, T, I], h0 and c0 [batch, H], output [batch, T, H].
module = WithState().eval()
x, h0, c0 = torch.randn(4, T, I), torch.randn(4, H), torch.randn(4, H)
if len(sys.argv) == 1 or 'lstm-state-inputs' in sys.argv[1:]:
    with torch.no_grad():
        y = module(x, h0, c0)
    d = os.path.join(OUT, 'lstm-state-inputs')
    os.makedirs(d, exist_ok=True)
    axes = {'x': {0: 'batch'}, 'h0': {0: 'batch'}, 'c0': {0: 'batch'}, 'y': {0: 'batch'}}
    torch.onnx.export(module, (x, h0, c0), os.path.join(d, 'model.onnx'), opset_version=13, input_names=['x', 'h0', 'c0'], output_names=['y'], dynamic_axes=axes)
    for k, v in (('x', x), ('h0', h0), ('c0', c0), ('y', y)):
        np.save(os.path.join(d, f'{k}.npy'), v.numpy())

# Cases added later, drawn from their own seed so the ones above regenerate unchanged.
torch.manual_seed(1)
export({
    'gru-learned-h0-expand': (LearnedState(nn.GRU(I, H, batch_first=True), False), 13),
    'rnn-learned-h0-repeat': (LearnedState(nn.RNN(I, H, batch_first=True), True), 17),
})

# torch.onnx.export's default, a static batch: the zero initial state of a stacked or bidirectional
# layer is a constant [layers·dirs, 4, H] with the traced batch written in, expanded to the batch.
torch.manual_seed(2)
export({
    'gru-2layer-static': (Fn(lambda x, r: r(x)[1][-1], nn.GRU(I, H, num_layers=2, batch_first=True)), 13),
    'lstm-bidirectional-hn-cat-static': (Fn(lambda x, r: (lambda h: torch.cat([h[-2], h[-1]], 1))(r(x)[1][0]), nn.LSTM(I, H, num_layers=2, bidirectional=True, batch_first=True)), 17),
    # A learned h0 expanded to the traced batch folds to a constant [1, 4, H].
    'gru-learned-h0-static': (LearnedState(nn.GRU(I, H, batch_first=True), False), 13),
}, dynamic=False)
