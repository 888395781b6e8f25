"""Protocol files (YAML) and the mixin that reads them."""
