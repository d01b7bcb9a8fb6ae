"""Arrow schemas of every chain-store table. One place, shared by ingest, analysis and Spark.

Amounts: UTXO values are int64 satoshi. Account-chain values are exact integers that
may exceed 64 bits (wei, token units), stored as decimal(38,0); the few values beyond
38 digits (spam tokens minting 2**256-1) are kept exactly as text in ``value_text``
with ``value`` null. Never floats.
"""

from __future__ import annotations

import pyarrow as pa

NO_ADDRESS = -1  # address_id of outputs with no address (OP_RETURN, bare multisig, non-standard)
NATIVE_ASSET = 0  # asset_id of an account chain's native coin

AMOUNT = pa.decimal128(38, 0)
_DICTIONARY = b"fundtrail.dictionary"


def _few_distinct(schema: pa.Schema, *columns: str) -> pa.Schema:
    """``schema``, marking the columns with few distinct values per part (heights, script
    types, positions): only they are dictionary-encoded when written.

    Why: Parquet writers dictionary-encode every column by default and fall back once a
    dictionary page fills up; for ids, values and hashes that attempt is wasted. On a
    150 MB ingest batch it cost a third of the Parquet encoding CPU and made the parts
    larger (outputs 4.5 -> 3.6 MB, zstd either way)."""
    assert set(columns) <= set(schema.names), columns
    return schema.with_metadata({_DICTIONARY: ",".join(columns).encode()})


def dictionary_columns(schema: pa.Schema) -> list[str] | bool:
    """What to dictionary-encode when writing ``schema``: its marked columns, or every
    column (Parquet's default) for a schema with no mark."""
    mark = (schema.metadata or {}).get(_DICTIONARY)
    return True if mark is None else [c for c in mark.decode().split(",") if c]


UTXO_SCHEMAS: dict[str, pa.Schema] = {
    "blocks": pa.schema(
        [
            ("height", pa.int64()),
            ("hash", pa.string()),
            ("prev_hash", pa.string()),
            ("time", pa.int64()),
            ("bits", pa.uint32()),
            ("tx_count", pa.int32()),
            ("size", pa.int64()),
            ("first_tx_id", pa.int64()),
        ]
    ),
    "txs": pa.schema(
        [
            ("tx_id", pa.int64()),
            ("txid", pa.string()),
            ("height", pa.int64()),
            ("time", pa.int64()),
            ("fee", pa.int64()),
            ("is_coinbase", pa.bool_()),
            ("size", pa.int32()),
            ("vsize", pa.int32()),
            ("n_inputs", pa.int32()),
            ("n_outputs", pa.int32()),
            ("version", pa.int32()),
            ("locktime", pa.uint32()),
        ]
    ),
    "outputs": pa.schema(
        [
            ("tx_id", pa.int64()),
            ("n", pa.int32()),
            ("address_id", pa.int64()),
            ("value", pa.int64()),
            ("script_type", pa.string()),
            ("height", pa.int64()),
        ]
    ),
    "inputs": pa.schema(
        [
            ("tx_id", pa.int64()),
            ("n", pa.int32()),
            ("spent_tx_id", pa.int64()),
            ("spent_n", pa.int32()),
            ("address_id", pa.int64()),
            ("value", pa.int64()),
            ("height", pa.int64()),
            ("sequence", pa.uint32()),
        ]
    ),
    "addresses": pa.schema(
        [
            ("address_id", pa.int64()),
            ("address", pa.string()),
            ("script_type", pa.string()),
            ("first_seen", pa.int64()),  # height
        ]
    ),
}

_UTXO_FEW_DISTINCT = {
    "txs": ("height", "time", "is_coinbase", "version", "locktime"),
    "outputs": ("n", "script_type", "height"),
    "inputs": ("n", "height", "sequence"),
    "addresses": ("script_type", "first_seen"),
}
UTXO_SCHEMAS.update(
    {t: _few_distinct(UTXO_SCHEMAS[t], *cols) for t, cols in _UTXO_FEW_DISTINCT.items()}
)

ACCOUNT_SCHEMAS: dict[str, pa.Schema] = {
    "blocks": pa.schema(
        [
            ("number", pa.int64()),
            ("hash", pa.string()),
            ("parent_hash", pa.string()),
            ("time", pa.int64()),
            ("miner_id", pa.int64()),
            ("base_fee", AMOUNT),
            ("gas_used", pa.int64()),
            ("tx_count", pa.int32()),
        ]
    ),
    "txs": pa.schema(
        [
            ("tx_hash", pa.string()),
            ("block", pa.int64()),
            ("tx_index", pa.int32()),
            ("time", pa.int64()),
            ("from_id", pa.int64()),
            ("to_id", pa.int64()),  # NO_ADDRESS for contract creation without receipt address
            ("value", AMOUNT),
            ("gas_used", pa.int64()),
            ("effective_gas_price", AMOUNT),
            ("fee", AMOUNT),
            ("status", pa.int8()),  # 1 success, 0 failed
        ]
    ),
    # kind: native | internal | token | fee | burn | reward | genesis
    "transfers": pa.schema(
        [
            ("tx_hash", pa.string()),
            ("block", pa.int64()),
            ("time", pa.int64()),
            ("tx_index", pa.int32()),
            ("log_index", pa.int32()),  # token: the log's index; others: -1
            ("trace_index", pa.int32()),  # internal: position in the call tree; others: -1
            ("from_id", pa.int64()),
            ("to_id", pa.int64()),
            ("asset_id", pa.int32()),
            ("value", AMOUNT),
            ("value_text", pa.string()),  # exact text when value needs more than 38 digits
            ("kind", pa.string()),
        ]
    ),
    "assets": pa.schema(
        [
            ("asset_id", pa.int32()),
            ("contract", pa.string()),  # lowercase 0x..; null for the native coin
            ("symbol", pa.string()),  # null = unknown
            ("decimals", pa.int32()),  # null = unknown
        ]
    ),
    "addresses": pa.schema(
        [
            ("address_id", pa.int64()),
            ("address", pa.string()),  # lowercase key; EIP-55 computed for display
            ("script_type", pa.string()),  # "evm"
            ("first_seen", pa.int64()),  # block number
        ]
    ),
}

# Derived tables written by analysis; same for both ledger models.
DERIVED_SCHEMAS: dict[str, pa.Schema] = {
    "clusters": pa.schema(
        [
            ("address_id", pa.int64()),
            ("cluster_id", pa.int64()),
            ("heuristic", pa.string()),  # which heuristic joined it ("" = singleton)
        ]
    ),
    "entities": pa.schema(
        [
            ("cluster_id", pa.int64()),
            ("label", pa.string()),
            ("category", pa.string()),
            ("source", pa.string()),
            ("confidence", pa.int32()),
            ("abuse", pa.string()),  # abuse category of the tag behind the label, if any
            ("actor", pa.string()),
            ("n_tags", pa.int32()),  # tagged addresses of the cluster carrying this label
            ("is_primary", pa.bool_()),  # the label that names the entity
            ("conflict", pa.bool_()),  # the cluster carries other, different labels too
        ]
    ),
    # the CoinJoin detector's decision, one row per transaction with two or more inputs
    "coinjoin": pa.schema(
        [
            ("tx_id", pa.int64()),
            ("is_coinjoin", pa.bool_()),
            ("kind", pa.string()),  # wasabi1 | wasabi2 | whirlpool | joinmarket | "" (none)
        ]
    ),
    "cluster_stats": pa.schema(
        [
            ("cluster_id", pa.int64()),
            ("size", pa.int64()),
            ("balance", AMOUNT),  # native coin, base units
            ("first_seen", pa.int64()),  # unix time of the first tx touching the cluster
            ("last_seen", pa.int64()),
            ("in_degree", pa.int64()),  # distinct other clusters that paid into it
            ("out_degree", pa.int64()),  # distinct other clusters it paid
        ]
    ),
    # evidence: the edges that actually joined two clusters (a spanning forest), for `why`
    "cluster_edges": pa.schema(
        [
            ("address_id_a", pa.int64()),
            ("address_id_b", pa.int64()),
            ("tx_id", pa.int64()),  # UTXO tx_id; -1 on account chains
            ("tx_hash", pa.string()),  # account chains: the transfer's tx hash
            ("heuristic", pa.string()),
        ]
    ),
    # links that are evidence but not common ownership: account chains' forwarders
    # (deposit_address reads them at attribution time, against the current services)
    "counterparties": pa.schema(
        [
            ("address_id", pa.int64()),  # the forwarder
            ("counterparty_id", pa.int64()),  # the one address it forwards (almost) all to
            ("relation", pa.string()),  # forwards
            ("tx_hash", pa.string()),  # the (last) forwarding tx
            ("share", pa.float64()),  # forwarded / received (lowest over its assets)
        ]
    ),
}


# The table layout of each ledger family: EVM and TRON are both account ledgers and share
# one layout (transfers with an asset id), so account-chain kernels read either.
LAYOUTS: dict[str, dict[str, pa.Schema]] = {
    "utxo": UTXO_SCHEMAS,
    "evm": ACCOUNT_SCHEMAS,
    "tron": ACCOUNT_SCHEMAS,
}


def schemas_for(family: str) -> dict[str, pa.Schema]:
    """Every table of a chain store of ``family`` (``fundtrail.model.chains.Family``)."""
    return {**LAYOUTS[family], **DERIVED_SCHEMAS}
