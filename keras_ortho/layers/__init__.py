"""Classifier heads with fixed class vectors."""
