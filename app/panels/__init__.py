"""Analysis panels (observables, blocks, correlation, network), their contract and workers."""
