"""Fictional names for exchanges, pools, gangs and victims: no real company or person."""

from __future__ import annotations

from fundtrail.chains.simulate.draws import Draws

EXCHANGES = ("Kraylo Exchange", "Bitvane", "Coinharbor", "Northmint", "Satorra Markets")
POOLS = ("Quarry Pool", "HashFjord", "Slate Mining", "Deepvein Pool")
SCAM_BRANDS = ("Aurelia Yield Partners", "Vantix Capital Growth", "Meridian Crypto Fund")
RANSOMWARE = ("NightLatch", "GreyVault", "Cinder")
MIXERS = ("BlendWell Mixer",)
COORDINATORS = {
    "wasabi1": "Wasabi 1.x coordinator",
    "wasabi2": "Wasabi 2.0 coordinator",
    "whirlpool": "Whirlpool coordinator",
    "joinmarket": "JoinMarket (no coordinator, maker pool)",
}

_FIRST = (
    "Anna", "Ben", "Clara", "David", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kaja",
    "Luis", "Maya", "Nils", "Olga", "Pavel", "Rosa", "Samir", "Tessa", "Umar", "Vera", "Wim",
    "Yara", "Zoe", "Amir", "Bianca", "Carlos", "Dana", "Emil", "Fatima", "Gavin", "Hana",
    "Ivo", "Julia", "Kenji", "Lena", "Marco", "Nora", "Omar", "Petra",
)  # fmt: skip
_LAST = (
    "Adler", "Brandt", "Costa", "Dufour", "Eriksen", "Fischer", "Garcia", "Horvat", "Ivanova",
    "Jansen", "Keller", "Lindqvist", "Moreau", "Novak", "Okafor", "Peters", "Quinn", "Rossi",
    "Schmidt", "Tanaka", "Ullrich", "Varga", "Weber", "Yilmaz", "Zimmer", "Bauer", "Coelho",
    "Dvorak", "Engel", "Ferreira", "Gruber", "Haas", "Kowalski", "Larsen", "Meyer", "Nagy",
)  # fmt: skip


def person(draws: Draws) -> str:
    return f"{draws.pick(_FIRST)} {draws.pick(_LAST)}"
