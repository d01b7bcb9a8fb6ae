"""Ethereum mainnet's proof-of-work block rewards, for nodes that do not report them.

``trace_block`` (parity/erigon/reth) lists block and uncle rewards as traces; geth's
``debug_traceBlockByNumber`` does not, and without them miners' balances would come out
short. On mainnet (recognised by its genesis hash) the rewards follow fixed rules:

* base reward R: 5 ETH from genesis, 3 ETH from Byzantium (block 4,370,000), 2 ETH from
  Constantinople (7,280,000), nothing from the Merge (15,537,394) on;
* the block's miner gets R + R/32 per included uncle;
* each uncle's miner gets (uncle number + 8 - block number) * R / 8.

Other chains (BSC, testnets, dev nodes) are left alone: their rewards, if any, move as
ordinary or system transactions.
"""

from __future__ import annotations

from fundtrail.chains.evm.records import MINT, BlockRecord, Move

MAINNET_GENESIS = "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"
ETH = 10**18
_SCHEDULE = ((15_537_394, 0), (7_280_000, 2 * ETH), (4_370_000, 3 * ETH), (0, 5 * ETH))


def base_reward(number: int) -> int:
    """Mainnet's static block reward at block ``number`` (0 after the Merge)."""
    return next(reward for start, reward in _SCHEDULE if number >= start)


def reward_moves(block: BlockRecord, uncles: list[tuple[int, str]]) -> list[Move]:
    """Reward transfers of one mainnet block; ``uncles`` are (number, miner) of its uncles."""
    r = base_reward(block.number)
    if r == 0:
        return []
    moves = [Move("reward", MINT, block.miner, r + len(uncles) * r // 32)]
    for number, miner in uncles:
        moves.append(Move("reward", MINT, miner, (number + 8 - block.number) * r // 8))
    return moves
