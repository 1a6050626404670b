"""LeNet-5 for 3x32x32 CIFAR-10 images, the paper's small convolutional model (62,006 parameters).

No BatchNorm and no dropout, so the network has no buffers and no randomness in its forward: the
batched (vmapped) and the one-at-a-time training paths compute the same function.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class LeNet5(nn.Module):
    """conv 3→6 k5, relu, maxpool 2; conv 6→16 k5, relu, maxpool 2; fc 400→120→84→classes."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, kernel_size=5)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        # x: (B, 3, 32, 32)
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # (B, 6, 14, 14)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # (B, 16, 5, 5)
        x = torch.flatten(x, start_dim=1)  # (B, 400)
        x = F.relu(self.fc1(x))  # (B, 120)
        x = F.relu(self.fc2(x))  # (B, 84)
        return self.fc3(x)  # (B, classes)


def lenet5() -> nn.Module:
    """The registered factory: LeNet-5 with 10 classes, initialised by PyTorch's defaults."""
    return LeNet5(num_classes=10)
