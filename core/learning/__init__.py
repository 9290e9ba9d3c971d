"""Learning the Ising Hamiltonian: datasets, the local operator basis, pseudo-likelihood,
a temperature classifier (torch) with its Bayes analysis and distillation, the multiplication gate.

Importing this package loads numpy/scipy only; `classifier` and `distill` import torch.
The multiplication gate lives in the `gate` submodule (import it as a module).
"""
from .datasets import IsingDataset, generate, parse_temperatures
from .operators import Operator, basis
from .pseudolikelihood import FullFit, PLFit, fit_full_couplings, fit_pseudolikelihood, learn_couplings

__all__ = ["FullFit", "IsingDataset", "Operator", "PLFit", "basis", "fit_full_couplings", "fit_pseudolikelihood",
           "generate", "learn_couplings", "parse_temperatures"]
