"""Datasets as tensors living on the training device (DESIGN §6: no DataLoader in the hot loop)."""
