"""pytest entry point (placeholder until the stage plugin lands)."""
