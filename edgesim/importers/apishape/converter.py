"""The conversion as a whole: ``to_distribution`` runs every part of the converter over a
bundle and returns the ``Distribution`` with where each of its parts was written (``Imported``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from edgesim.distribution.model import Distribution, Edges, ServerSettings, Throttling
from edgesim.importers.apishape.behaviors import BehaviorsMixin
from edgesim.importers.apishape.distribution import DistributionMixin
from edgesim.importers.apishape.functions import FunctionsMixin, abs_path
from edgesim.importers.apishape.origins import OriginsMixin
from edgesim.importers.apishape.shape import Node
from edgesim.importers.bundle import ImportBundle


@dataclass
class Imported:
    """A converted bundle: the distribution, and where each of its parts was written, keyed
    ``origins.<id>``, ``origin_groups.<id>``, ``behaviors.<path>``, ``default_behavior``,
    ``functions.<name>``, ``lambdas.<name>``, ``kvs.<name>``, ``cache_policies.<name>`` (and
    the two other policy kinds), ``custom_error_responses.<code>`` and ``distribution`` (for
    ``totoml``'s comments)."""

    dist: Distribution
    where: dict[str, str] = field(default_factory=dict)
    # Policies made from legacy cache settings, by policy name → the behaviour they came from.
    legacy: dict[str, str] = field(default_factory=dict)
    hints: dict[str, str] = field(default_factory=dict)  # origin id → construct path (CDK)


def to_distribution(
    bundle: ImportBundle,
    *,
    workdir: Path,
    server: ServerSettings | None = None,
    edges: Edges | None = None,
    throttling: Throttling | None = None,
    source: str | None = None,
) -> Imported:
    """Convert ``bundle``; inline function code and KVS items are written under ``workdir``
    (created if needed; a file is rewritten only when its content changed, so hot reload does
    not see a change that is not one). ``source`` names the input in messages when
    ``bundle.where`` has no entry for a path (default: the first source file)."""
    return _Converter(bundle, workdir, source).run(
        server=server or ServerSettings(),
        edges=edges or Edges(),
        throttling=throttling or Throttling(),
    )


class _Converter(OriginsMixin, BehaviorsMixin, FunctionsMixin, DistributionMixin):
    """ImportBundle → Distribution: the parts in order, then every problem at once."""

    def run(self, *, server: ServerSettings, edges: Edges, throttling: Throttling) -> Imported:
        config = Node(self.problems, "", self.bundle.distribution_config)
        self.where["distribution"] = self.problems.place("")
        self._distribution_notes(config)
        origins = self._origins(config)
        groups = self._origin_groups(config, origins)
        self._custom_policies()
        self._keys_and_groups()
        targets = [*origins, *groups]
        behaviors = self._behaviors(config, targets)
        default = self._default_behavior(config, targets)
        functions, stores = self._functions_and_stores()
        lambdas = self._lambda_decls()
        errors = self._custom_errors(config)
        root = self._default_root_object(config)
        geo = self._geo_restriction(config)
        aliases = tuple(alias.lower() for alias in config.texts("Aliases"))
        for note in self.bundle.notes:
            self.notes.add(note)
        self.problems.raise_if_any()
        dist = Distribution(
            server=server,
            origins=origins,
            origin_groups=groups,
            kvs=stores,
            functions=functions,
            behaviors=behaviors,
            default_behavior=default,
            edges=edges,
            custom_error_responses=errors,
            throttling=throttling,
            default_root_object=root,
            geo_restriction=geo,
            aliases=aliases,
            public_keys=self.public_keys,
            key_groups=self.key_groups,
            notes=self.notes.lines(),
            sources=tuple(abs_path(p) for p in dict.fromkeys(self.bundle.sources)),
            lambdas=lambdas,
        )
        return Imported(dist, self.where, self.legacy)
