"""TRON: a java-tron node's HTTP API ingested into an account chain store."""
