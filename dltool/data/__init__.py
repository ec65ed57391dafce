"""Data sets and loaders that more than one plugin needs (generated 2-D sets, digits, files).

The names of the built-in data sets live here, light to import (no NumPy), so that a
command's choices (``basicnn``, ``optimizers``) and the loaders in :mod:`.datasets` share
one list.
"""

GENERATED = ("planar", "moons", "circles", "spirals", "blobs")  # seeded 2-D generators
DATASETS = (*GENERATED, "digits")  # every built-in data set: the generated ones and digits
