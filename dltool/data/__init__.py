"""Data sets and loaders that more than one plugin needs (generated 2-D sets, digits, files)."""
