"""Math that more than one plugin needs (gradient checking, update rules, activations)."""
