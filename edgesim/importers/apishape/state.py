"""What a conversion keeps while it runs (``ConverterState``, the base of every part of
the converter): the bundle, the work directory, the problems and notes, where each part was
written, the legacy policies made, the custom policies by id, the functions the behaviours use and
the policy names taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from edgesim.distribution.model import CachePolicy, OriginRequestPolicy, ResponseHeadersPolicy
from edgesim.importers.apishape.notes import Notes
from edgesim.importers.apishape.shape import Problems
from edgesim.importers.bundle import ImportBundle


@dataclass
class PolicyRefs:
    """The bundle's custom policies, by id."""

    cache: dict[str, CachePolicy] = field(default_factory=dict)  # custom id → policy
    origin_request: dict[str, OriginRequestPolicy] = field(default_factory=dict)
    response_headers: dict[str, ResponseHeadersPolicy] = field(default_factory=dict)


class ConverterState:
    """The state the converter's parts share."""

    def __init__(self, bundle: ImportBundle, workdir: Path, source: str | None) -> None:
        self.bundle = bundle
        self.workdir = workdir
        self.problems = Problems(bundle, source)
        self.notes = Notes()
        self.where: dict[str, str] = {}
        self.legacy: dict[str, str] = {}
        self.policies = PolicyRefs()
        self.used_functions: dict[str, str] = {}  # name → path of its first association
        self.used_lambdas: dict[str, str] = {}  # Lambda@Edge function → its first association
        self.lambda_events: dict[str, list[tuple[str, str]]] = {}  # → (event, path) of each use
        self.policy_names: dict[str, set[str]] = {"cache": set(), "origin": set(), "rhp": set()}
