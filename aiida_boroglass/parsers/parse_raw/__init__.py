"""parsers.parse_raw layer of aiida-boroglass (see DESIGN.md)."""
