"""gankit."""
