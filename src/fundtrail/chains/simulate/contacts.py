"""What the simulated victims report about the perpetrator, the way real victims do.

Ransom notes give a contact e-mail (a gang has one or two), often an onion chat site,
sometimes a Tox id; most victims report the e-mail, some with different capitals, a
few mistyped, some nothing. Investment-scam victims report the platform's website
(typed every which way: scheme, ``www.``, a login path), some the Telegram handle of
their "account manager" or a WhatsApp number. And noise: victims who give their own
bank's phone (the same few banks across all campaigns) or ``gmail.com`` as the "site".

Drawn from a stream of its own (derived from the run's seed), after the chain is
simulated: the chain, the truth and every other file are byte for byte what they were
without contacts. Domains are under ``.example`` and phone numbers in ranges reserved
for fiction (Ofcom's 07700 900xxx and 020 7946 0xxx), so no real party is named.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fundtrail.chains.simulate.draws import Draws

if TYPE_CHECKING:
    from fundtrail.chains.simulate.truth import Campaign

COLUMNS = ("perpetrator_email", "perpetrator_site", "perpetrator_phone", "perpetrator_handle")
_PROVIDERS = ("onionmail.example", "securemail.example", "cryptbox.example")
_WORDS = ("decrypt", "support", "recovery", "restore", "help")
_MANAGERS = ("anna", "david", "elena", "marco", "sofia")
_BANKS = ("+44 20 7946 0018", "+44 20 7946 0342", "+44 20 7946 0577", "+44 20 7946 0901")
_B32 = "abcdefghijklmnopqrstuvwxyz234567"


def _slug(name: str) -> str:
    return "".join(ch for ch in name.split()[0].lower() if ch.isalnum())


class _Gang:
    """What one campaign's perpetrators show their victims."""

    def __init__(self, d: Draws, camp: Campaign, name: str) -> None:
        # two campaigns may draw the same brand: their contacts must still differ
        n = camp.id.rsplit("-", 1)[-1]
        slug = _slug(name) + ("" if n == "1" else n)
        self.kind = camp.kind
        if camp.kind == "ransomware":
            words = [d.pick(_WORDS) for _ in range(d.between(1, 2))]
            self.emails = [f"{slug}.{w}{k or ''}@{d.pick(_PROVIDERS)}" for k, w in enumerate(words)]
            self.onion = "".join(d.pick(_B32) for _ in range(56)) + ".onion"
            self.tox = "".join(d.pick("0123456789ABCDEF") for _ in range(76))
        else:
            words = [*name.lower().split(), "invest"]
            self.site = f"{slug}-{words[1]}.example"
            self.managers = [f"{slug}_{d.pick(_MANAGERS)}{k}" for k in range(d.between(2, 3))]
            self.phones = [f"+44 7700 900{d.between(100, 999)}" for _ in range(2)]

    def report(self, d: Draws) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {c: [] for c in COLUMNS}
        if self.kind == "ransomware":
            self._ransom(d, out)
        else:
            self._scam(d, out)
        if d.chance(0.05):
            out["perpetrator_phone"].append(d.pick(_BANKS))  # their own bank, in good faith
        if d.chance(0.03):
            out["perpetrator_site"].append(d.pick(("gmail.com", "https://mail.google.com/")))
        return out

    def _ransom(self, d: Draws, out: dict[str, list[str]]) -> None:
        if d.chance(0.85):
            email = d.pick(self.emails)
            if d.chance(0.15):
                local, domain = email.split("@")
                email = local.title() + "@" + domain.capitalize()
            elif d.chance(0.06):
                k = d.below(len(email.split("@")[0]) - 1)
                email = email[:k] + email[k + 1] + email[k] + email[k + 2 :]  # two letters swapped
            out["perpetrator_email"].append(email)
        if d.chance(0.25):
            out["perpetrator_site"].append(f"http://{self.onion}/chat/{d.between(10**5, 10**6)}")
        if d.chance(0.1):
            out["perpetrator_handle"].append(self.tox)

    def _scam(self, d: Draws, out: dict[str, list[str]]) -> None:
        if d.chance(0.8):
            site = d.pick((
                self.site, f"https://www.{self.site}/account/login", f"www.{self.site}",
                f"HTTPS://{self.site.upper()}/", f"http://{self.site}/invest?ref={d.below(999)}",
            ))  # fmt: skip
            out["perpetrator_site"].append(site)
        if d.chance(0.3):
            handle = d.pick(self.managers)
            out["perpetrator_handle"].append(d.pick((f"@{handle}", f"https://t.me/{handle}")))
        if d.chance(0.15):
            out["perpetrator_phone"].append(d.pick(self.phones))


def reported(seed: int, campaigns: list[Campaign], names: list[str]) -> dict[str, list[str]]:
    """{complaint id: one cell per column of COLUMNS (values joined by ';')}."""
    state = np.random.SeedSequence([seed, 0xC0417AC7]).generate_state(1)[0]
    d = Draws(int(state))
    out: dict[str, list[str]] = {}
    for camp, name in zip(campaigns, names, strict=True):
        gang = _Gang(d, camp, name)
        for cid in camp.complaint_ids:
            cells = gang.report(d)
            out[cid] = [";".join(cells[c]) for c in COLUMNS]
    return out
