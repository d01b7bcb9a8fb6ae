"""Simulated Bitcoin: real block serialization, a background economy, crimes and their truth."""
