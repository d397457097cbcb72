"""Signed URLs and cookies in an import: the bundle's public keys and key groups, and each
behaviour's ``TrustedKeyGroups`` (API shape ``{Enabled, Quantity, Items}`` or CloudFormation's
plain list). Ids are the resources' names (CloudFront assigns real ids at deploy time); serve
prints them at start-up. Legacy ``TrustedSigners`` (AWS-account key pairs) are not emulated.
"""

from __future__ import annotations

from edgesim.distribution.model import KeyGroupDecl, PublicKeyDecl
from edgesim.distribution.trusted_keys import load_public_key
from edgesim.importers.apishape.notes import DIFFERS
from edgesim.importers.apishape.shape import Node, known_names
from edgesim.importers.apishape.state import ConverterState


class TrustedKeysMixin(ConverterState):
    """Public keys, key groups and the behaviours that trust them."""

    public_keys: dict[str, PublicKeyDecl]
    key_groups: dict[str, KeyGroupDecl]

    def _keys_and_groups(self) -> None:
        self.public_keys, self.key_groups = {}, {}
        for key_id, config in self.bundle.public_keys.items():
            node = Node(self.problems, f"public_keys.{key_id}", config)
            pem = node.text("EncodedKey")
            if pem is None:
                node.error("EncodedKey", "is required (the PEM public key)")
                continue
            try:
                load_public_key(pem.encode())
            except ValueError as exc:
                reason = " ".join(str(exc).split())
                node.error("EncodedKey", f"not a PEM public key CloudFront accepts: {reason}")
                continue
            self.public_keys[key_id] = PublicKeyDecl(id=key_id, pem=pem.encode())
            self.where[f"public_keys.{key_id}"] = self.problems.place(node.path)
        for group_id, config in self.bundle.key_groups.items():
            node = Node(self.problems, f"key_groups.{group_id}", config)
            keys = node.texts("Items")
            if not keys:
                node.error("Items", "a key group needs at least one public key")
            for key_id in keys:
                if key_id not in self.bundle.public_keys:
                    node.error(
                        "Items",
                        f"public key {key_id!r} is not part of the import"
                        f"{known_names(list(self.bundle.public_keys))}",
                    )
            self.key_groups[group_id] = KeyGroupDecl(name=group_id, keys=tuple(keys))
            self.where[f"key_groups.{group_id}"] = self.problems.place(node.path)

    def _trusted_key_groups(self, node: Node, label: str) -> tuple[str, ...]:
        signers = node.sub("TrustedSigners") if node.is_object("TrustedSigners") else None
        if node.texts("TrustedSigners") or (signers is not None and signers.flag("Enabled", False)):
            self.notes.add(
                DIFFERS + "legacy trusted signers (TrustedSigners, AWS-account key pairs) are "
                "not emulated: those requests are served without a signature check; use "
                "trusted key groups",
                label,
            )
        trusted = node.sub("TrustedKeyGroups") if node.is_object("TrustedKeyGroups") else None
        if trusted is not None and not trusted.flag("Enabled", True):
            return ()
        groups = node.texts("TrustedKeyGroups")
        for group in groups:
            if group not in self.bundle.key_groups:
                node.error(
                    "TrustedKeyGroups",
                    f"key group {group!r} is not part of the import (edgesim needs its public "
                    f"keys to check signatures){known_names(list(self.bundle.key_groups))}",
                )
        return tuple(dict.fromkeys(groups))
