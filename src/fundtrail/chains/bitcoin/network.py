"""Bitcoin networks: mainnet, testnet (3), testnet4, signet and regtest.

One place for what tells them apart: the magic bytes of ``blk*.dat`` records, the
genesis block (built from its fields; a test checks every hash), the address formats
(base58 version bytes and the bech32 prefix) and the name Bitcoin Core's
``getblockchaininfo`` gives. A workspace records the network of its BTC store
(``network`` in the store's meta; a store without it is mainnet) and refuses blocks of
another network, so that test coins never mix with mainnet evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from fundtrail.chains.bitcoin.script import MAINNET_FORMAT, TESTNET_FORMAT, AddressFormat
from fundtrail.errors import InvalidInputError

_GENESIS_MESSAGE = b"The Times 03/Jan/2009 Chancellor on brink of second bailout for banks"
_SATOSHI_KEY = bytes.fromhex(
    "04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f3"
    "5504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f"
)
_TESTNET4_MESSAGE = b"03/May/2024 000000000000000000001ebd58c244970b3aa9d783bb001011fbe8ea8e98e00e"


@dataclass(frozen=True, slots=True)
class Network:
    name: str  # as given to --network
    core_chain: str  # Bitcoin Core's getblockchaininfo "chain"
    magic: bytes
    genesis_hash: str  # display order
    genesis_time: int
    genesis_bits: int
    genesis_nonce: int
    genesis_message: bytes
    genesis_key: bytes  # the coinbase pays <key> OP_CHECKSIG
    addresses: AddressFormat


MAINNET = Network(
    "mainnet",
    "main",
    bytes.fromhex("f9beb4d9"),
    "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
    1231006505,
    0x1D00FFFF,
    2083236893,
    _GENESIS_MESSAGE,
    _SATOSHI_KEY,
    MAINNET_FORMAT,
)
TESTNET = Network(
    "testnet",
    "test",
    bytes.fromhex("0b110907"),
    "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943",
    1296688602,
    0x1D00FFFF,
    414098458,
    _GENESIS_MESSAGE,
    _SATOSHI_KEY,
    TESTNET_FORMAT,
)
TESTNET4 = Network(
    "testnet4",
    "testnet4",
    bytes.fromhex("1c163f28"),
    "00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043",
    1714777860,
    0x1D00FFFF,
    393743547,
    _TESTNET4_MESSAGE,
    b"\0" * 33,
    TESTNET_FORMAT,
)
SIGNET = Network(
    "signet",
    "signet",
    bytes.fromhex("0a03cf40"),
    "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6",
    1598918400,
    0x1E0377AE,
    52613770,
    _GENESIS_MESSAGE,
    _SATOSHI_KEY,
    TESTNET_FORMAT,
)
REGTEST = Network(
    "regtest",
    "regtest",
    bytes.fromhex("fabfb5da"),
    "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
    1296688602,
    0x207FFFFF,
    2,
    _GENESIS_MESSAGE,
    _SATOSHI_KEY,
    AddressFormat(b"\x6f", b"\xc4", "bcrt"),
)

NETWORKS: dict[str, Network] = {n.name: n for n in (MAINNET, TESTNET, TESTNET4, SIGNET, REGTEST)}
NAMES = tuple(NETWORKS)
BY_MAGIC: dict[bytes, Network] = {n.magic: n for n in NETWORKS.values()}


def network(name: str | None) -> Network:
    """The network called ``name`` (None: mainnet); a clear error for anything else."""
    if name is None:
        return MAINNET
    found = NETWORKS.get(name.strip().lower())
    if found is None:
        raise InvalidInputError(
            f"unknown Bitcoin network {name!r}; choose one of {', '.join(NAMES)}",
            field="network",
        )
    return found


def by_genesis(block_hash: str) -> Network | None:
    return next((n for n in NETWORKS.values() if n.genesis_hash == block_hash), None)
