"""A CPO simulator: a real OCPI CPO with its own store and a generated German catalogue."""
