"""Model builders and model utilities."""
