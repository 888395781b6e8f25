"""Mechanics workflows: elastic constants (and later deformation and fracture) of glasses."""
