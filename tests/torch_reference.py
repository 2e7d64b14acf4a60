"""PyTorch's recurrent modules as independent references, and the one weight mapping to ours.

Gate order is the same on both sides (LSTM: input, forget, cell, output; GRU: reset, update,
candidate), so the mapping is: our ``w_ih``/``w_hh`` are PyTorch's ``weight_ih``/``weight_hh``
transposed; our ``b`` is ``bias_ih + bias_hh``, except a GRU's candidate block, where
PyTorch's ``bias_hh`` part sits inside the reset product and becomes our ``b_hn``.
"""

import numpy as np
import torch

TORCH_MODULES = {
    "rnn_relu": torch.nn.RNN,
    "rnn_tanh": torch.nn.RNN,
    "lstm": torch.nn.LSTM,
    "gru": torch.nn.GRU,
}


def make_module(cell, input_size, hidden_size, layers=1, bidirectional=False, seed=0):
    """A PyTorch module with its default random initialisation (seeded), batch-first."""
    torch.manual_seed(seed)
    kwargs = {"nonlinearity": cell.removeprefix("rnn_")} if cell.startswith("rnn") else {}
    return TORCH_MODULES[cell](
        input_size, hidden_size, num_layers=layers, bidirectional=bidirectional, batch_first=True, **kwargs
    )


def _suffix(layer, reverse):
    return f"_l{layer}" + ("_reverse" if reverse else "")


def params_from_torch(module, layer=0, reverse=False):
    """Our parameter pytree for one layer and direction of a PyTorch RNN/LSTM/GRU."""
    suffix = _suffix(layer, reverse)

    def get(name):
        return getattr(module, name + suffix).detach().numpy()

    params = {"w_ih": get("weight_ih").T.copy(), "w_hh": get("weight_hh").T.copy()}
    bias_ih, bias_hh = get("bias_ih"), get("bias_hh")
    if isinstance(module, torch.nn.GRU):
        hidden_size = module.hidden_size
        params["b"] = bias_ih + np.concatenate(
            [bias_hh[: 2 * hidden_size], np.zeros(hidden_size, np.float32)]
        )
        params["b_hn"] = bias_hh[2 * hidden_size :].copy()
    else:
        params["b"] = bias_ih + bias_hh
    return params


def grads_from_torch(module, layer=0, reverse=False):
    """The gradients PyTorch accumulated, mapped to our parameter names (``b`` once per bias)."""
    suffix = _suffix(layer, reverse)

    def grad(name):
        return getattr(module, name + suffix).grad.numpy()

    grads = {"w_ih": grad("weight_ih").T, "w_hh": grad("weight_hh").T, "b": grad("bias_ih")}
    if isinstance(module, torch.nn.GRU):
        grads["b_hn"] = grad("bias_hh")[2 * module.hidden_size :]
        gates = slice(0, 2 * module.hidden_size)
        _assert_same_gradient(grad("bias_hh")[gates], grads["b"][gates])
    else:
        _assert_same_gradient(grad("bias_hh"), grads["b"])
    return grads


def _assert_same_gradient(bias_hh_grad, bias_ih_grad):
    """PyTorch's two biases get the same gradient up to its own float32 summation order."""
    scale = np.abs(bias_ih_grad).max()
    np.testing.assert_allclose(bias_hh_grad, bias_ih_grad, rtol=1e-4, atol=1e-5 * scale)
