"""The local S3 buckets serve runs for ``[origins_local]`` directories: one S3 emulation per
directory (per region for MRAP-style entries), with signature checks where credentials are
configured, and the distribution with each entry's local URL filled in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from edgesim.distribution.model import Distribution, LocalOrigin, S3Access
from edgesim.errors import InputError
from edgesim.origins.s3auth import S3Credentials, S3RequestAuth
from edgesim.origins.s3dir import S3DirectoryOrigin

# What one emulation is: a directory, and the region and keys it checks signatures for.
BucketKey = tuple[Path, S3Access | None]


def _buckets(local: LocalOrigin) -> Iterator[tuple[str | None, BucketKey]]:
    """(region, key) of each bucket an entry needs."""
    if local.directory is not None:
        yield (local.access.region if local.access else None), (local.directory, local.access)
    for region, directory in local.regions:
        access = replace(local.access, region=region) if local.access is not None else None
        yield region, (directory, access)


class LocalBuckets:
    """Starts, finds and stops the S3 emulations; ``now`` is the edge clock's wall time (for
    signature dates and presigned URL expiry)."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self.now = now
        self._served: dict[BucketKey, S3DirectoryOrigin] = {}
        # The emulated Lambda@Edge execution role's keys, accepted by every bucket that checks
        # signatures (so a signing lambda needs no keys of its own, as with a real role).
        self._role_keys: list[S3Credentials] = []
        # Each signature-checking bucket's own keys, to combine with the role's when they change.
        self._auths: list[tuple[S3RequestAuth, list[S3Credentials]]] = []

    @property
    def running(self) -> bool:
        return bool(self._served)

    async def serve(self, dist: Distribution) -> None:
        self.role_keys_for(dist)
        for local in dist.origins_local.values():
            for _, key in _buckets(local):
                if key not in self._served:
                    self._served[key] = await self._start(local, key)

    async def _start(self, local: LocalOrigin, key: BucketKey) -> S3DirectoryOrigin:
        directory, access = key
        auth = None
        if access is not None:
            own = [S3Credentials(akid, secret) for akid, secret in access.credentials]
            auth = S3RequestAuth(own, access.region, self.now)
            self._auths.append((auth, own))
            self._accept(auth, own)
        origin = S3DirectoryOrigin(directory, auth=auth)
        try:
            await origin.start(host="127.0.0.1", port=0)
        except NotADirectoryError:
            raise InputError(
                f"[origins_local] {local.key}: {directory} is not a directory"
            ) from None
        return origin

    def role_keys_for(self, dist: Distribution) -> None:
        """The role keys of ``dist``'s lambdas (none without lambdas), at start-up and after each
        reload: every running bucket accepts the new ones at once."""
        key_id, secret, _token = dist.lambda_settings.credentials
        self._role_keys = [S3Credentials(key_id, secret)] if dist.lambdas else []
        for auth, own in self._auths:
            self._accept(auth, own)

    def _accept(self, auth: S3RequestAuth, own: list[S3Credentials]) -> None:
        keys = {c.access_key_id: c for c in self._role_keys}
        keys.update({c.access_key_id: c for c in own})  # a bucket's own key wins a clash
        auth.keys = keys

    def resolve(self, dist: Distribution) -> Distribution:
        """``dist`` with each directory entry's local URL (its emulation's) filled in; an
        MRAP-style entry gets one URL per region, and its first region's as ``url``."""
        mapped: dict[str, LocalOrigin] = {}
        for name, local in dist.origins_local.items():
            urls = [
                (region, served.url)
                for region, key in _buckets(local)
                if (served := self._served.get(key)) is not None and served.url is not None
            ]
            if not urls:
                continue
            region_urls = tuple((r, u) for r, u in urls if r is not None) if local.regions else ()
            mapped[name] = replace(local, url=urls[0][1], region_urls=region_urls)
        return replace(dist, origins_local={**dist.origins_local, **mapped}) if mapped else dist

    def unserved(self, dist: Distribution) -> list[str]:
        """The directories ``dist`` maps that are not served yet (a reload cannot add them)."""
        return sorted(
            str(key[0])
            for local in dist.origins_local.values()
            for _, key in _buckets(local)
            if key not in self._served
        )

    async def stop(self) -> None:
        for origin in self._served.values():
            await origin.stop()
        self._served.clear()
