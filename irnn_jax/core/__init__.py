"""The core: errors and argument checks, the recurrent initialisers, and the pure recurrences
(their parameters, the ReLU/tanh cells and the gated cells, each with its fused backward pass).
Imports nothing else of the package."""
