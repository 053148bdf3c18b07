"""Display objects drawing the inside of a fitted network (needs matplotlib)."""
