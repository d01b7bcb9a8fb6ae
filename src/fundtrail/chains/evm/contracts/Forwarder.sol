// SPDX-License-Identifier: Apache-2.0
// Moves ETH inside transactions, so tests see internal transfers: calls, failed inner
// calls, reverted transactions, contract creation with value and self-destruct.
pragma solidity ^0.8.20;

contract Child {
    constructor() payable {}

    function destroy(address payable to) external {
        selfdestruct(to);
    }
}

contract Forwarder {
    event Spawned(address child);

    receive() external payable {}

    /// Forward the whole value to `to` (one internal transfer).
    function forward(address payable to) external payable {
        (bool ok, ) = to.call{value: msg.value}("");
        require(ok, "forward failed");
    }

    /// Send half to `a`, the rest to `b` (two internal transfers).
    function split(address payable a, address payable b) external payable {
        uint256 half = msg.value / 2;
        (bool ok1, ) = a.call{value: half}("");
        (bool ok2, ) = b.call{value: msg.value - half}("");
        require(ok1 && ok2, "split failed");
    }

    /// Try to send to `to`; a failing inner call is ignored and the value stays here.
    function tryForward(address to) external payable returns (bool ok) {
        (ok, ) = to.call{value: msg.value}("");
    }

    /// Forward, then revert the whole transaction (nothing moves, gas is paid).
    function forwardThenRevert(address payable to) external payable {
        (bool ok, ) = to.call{value: msg.value}("");
        require(ok && false, "reverted on purpose");
    }

    /// Create a child contract holding the value (an internal 'create' transfer).
    function spawn() external payable returns (address child) {
        child = address(new Child{value: msg.value}());
        emit Spawned(child);
    }
}
