"""Mechanics kernels: elastic constants from stress-strain data (pure numpy, no AiiDA import)."""
