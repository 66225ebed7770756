"""Review chains: which stages an application walks, from plain chain data."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

TIERS = ("省", "市", "县区")
REPORTING_LEVELS = ("省直", "市级", "县区级")


@dataclass(frozen=True)
class ChainKey:
    tier: str
    reporting: str
    delegated: bool

    def describe(self) -> str:
        return f"tier {self.tier}, reporting {self.reporting}, delegated {'yes' if self.delegated else 'no'}"


class UnknownRoute(LookupError):
    def __init__(self, key: ChainKey, known: Iterable[ChainKey]) -> None:
        pairs = sorted({(k.tier, k.reporting) for k in known})
        allowed = ", ".join(f"{t}/{r}" for t, r in pairs)
        super().__init__(f"no review chain for {key.describe()}; known tier/reporting pairs: {allowed}")
        self.key = key


@dataclass(frozen=True)
class Chains:
    """The review chains of config/chains.yaml, indexed for lookup."""

    review: Mapping[ChainKey, tuple[str, ...]]
    tracks: Mapping[str, tuple[str, ...]]
    kinds: Mapping[str, str]

    def route(self, tier: str, reporting: str, delegated: bool) -> tuple[str, ...]:
        key = ChainKey(tier, reporting, delegated)
        try:
            return self.review[key]
        except KeyError:
            raise UnknownRoute(key, self.review) from None

    def for_application(self, *, track: str, tier: str | None, reporting: str | None,
                        delegated: bool) -> tuple[str, ...]:
        """The chain of one application: 评审 by its committee, other tracks their own."""
        if track == "评审":
            if tier is None or reporting is None:
                raise UnknownRoute(ChainKey(str(tier), str(reporting), delegated), self.review)
            return self.route(tier, reporting, delegated)
        try:
            return self.tracks[track]
        except KeyError:
            raise LookupError(f"no chain for track {track!r}; known: {', '.join(self.tracks)}") from None

    def kind(self, stage: str) -> str:
        return self.kinds[stage]


def chains_from_records(review: list[dict], tracks: Mapping[str, list[str]],
                        kinds: Mapping[str, str]) -> Chains:
    """Build and check the chains: unique keys, known kinds, one issue/register end each."""
    index: dict[ChainKey, tuple[str, ...]] = {}
    for i, rec in enumerate(review):
        key = ChainKey(rec["tier"], rec["reporting"], bool(rec["delegated"]))
        if key in index:
            raise ValueError(f"review_chains[{i}]: duplicate chain for {key.describe()}")
        index[key] = tuple(rec["stages"])
    all_chains = list(index.values()) + [tuple(s) for s in tracks.values()]
    for stages in all_chains:
        _check_chain(stages, kinds)
    return Chains(index, {t: tuple(s) for t, s in tracks.items()}, dict(kinds))


def _check_chain(stages: tuple[str, ...], kinds: Mapping[str, str]) -> None:
    unknown = [s for s in stages if s not in kinds]
    if unknown:
        raise ValueError(f"stages without a kind in stage_kinds: {', '.join(unknown)}")
    if kinds[stages[0]] != "submission":
        raise ValueError(f"chain {' ---> '.join(stages)} does not start with a submission stage")
    if kinds[stages[-1]] not in ("issue", "register"):
        raise ValueError(f"chain {' ---> '.join(stages)} does not end with issue or register")
