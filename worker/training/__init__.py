"""Functional training: stacked parameters, elementwise optimizers, one loop with callbacks."""
