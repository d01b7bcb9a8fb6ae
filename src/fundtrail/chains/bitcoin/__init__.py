"""Bitcoin: block and transaction parser, script-to-address mapping, block files, RPC, ingest."""
