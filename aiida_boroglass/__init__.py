"""AiiDA plugin for simulating and screening alkali borate, borophosphate and borosilicate glasses."""

__version__ = "0.1.0"
