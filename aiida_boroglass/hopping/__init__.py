"""hopping layer of aiida-boroglass (see DESIGN.md)."""
