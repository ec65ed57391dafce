"""The plugin's model builder: torch is imported only when the model is built."""


def linear():
    """Return a ``torch.nn.Linear(4, 2)``."""
    import torch

    return torch.nn.Linear(4, 2)
