"""Placeholder while the provider is written."""
