"""The client REST API (EV Suite wire-compatible): thin adapters over ``services/``."""
