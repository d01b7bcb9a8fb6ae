"""Simulated EVM chain written as ethereum-etl CSV files."""
