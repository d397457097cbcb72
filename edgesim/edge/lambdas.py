"""The Lambda@Edge functions ``serve`` runs: one :class:`LambdaEdgeFunction` (a pool of Node.js
workers) per lambda and region, all sharing one worker budget (``[lambda] max_workers``).

A request runs a lambda in the region of its POP's regional edge cache (``[edges]
pop_regions``): that is the function's ``AWS_REGION``, as Lambda@Edge runs the replica nearest
the edge ("Restrictions on Lambda@Edge" → Lambda Region: functions are created in us-east-1 and
replicated). Pools start on first use. Every lambda receives the emulated execution role's
credentials (``[lambda] credentials``), which the signature-checking local S3 origins accept.

Hot reload: :meth:`LambdaRegistry.carried_over` keeps the pools of lambdas whose declaration did
not change; a changed one is loaded in a worker first, and if its module does not load the
previous version keeps serving (as for CloudFront Functions).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from edgesim.distribution.model import Distribution, LambdaDecl, LambdaSettings
from edgesim.edge.regions import region_of
from edgesim.errors import EdgesimError
from edgesim.lambda_edge.function import LambdaEdgeFunction, LambdaOutcome
from edgesim.lambda_edge.pool import WorkerBudget
from edgesim.lambda_edge.spec import HOME_REGION, LambdaSpec, resolve_source, role_credentials
from edgesim.lambda_edge.worker import WorkerFailure

# A replaced version's workers are stopped after the longest invocation it may still be running
# (an origin-request lambda of up to 30 s).
RETIRE_AFTER_S = 31.0


class LambdaInvoker(Protocol):
    """What the pipeline calls to run a lambda: a local pool (:class:`LambdaEdgeFunction`), or
    with ``serve --workers`` the control process's pool reached over the worker's channel."""

    async def invoke(
        self,
        event_type: str,
        request: Mapping[str, Any],
        response: Mapping[str, Any] | None = None,
        *,
        config: Mapping[str, Any] | None = None,
        now: datetime | float | None = None,
        request_id: str | None = None,
    ) -> LambdaOutcome: ...


@dataclass
class LambdaSlot:
    """One lambda as serve runs it: its declaration, the version's pools per region, and why the
    last load failed (shown in /status and the inspector)."""

    decl: LambdaDecl
    settings: LambdaSettings
    budget: WorkerBudget
    pools: dict[str, LambdaEdgeFunction] = field(default_factory=dict)
    last_error: str | None = None
    version: int = 1

    def spec(self, region: str) -> LambdaSpec:
        decl, settings = self.decl, self.settings
        return LambdaSpec(
            decl.name,
            resolve_source(decl.file, what=f"lambda {decl.name}: file"),
            handler=decl.handler,
            runtime=decl.runtime,
            timeout_s=decl.timeout_s,
            memory_mb=decl.memory_mb,
            version=str(self.version),
            region=region,
            credentials=role_credentials(settings.credentials),
            env=dict(settings.env),
        )

    def function(self, region: str) -> LambdaEdgeFunction:
        fn = self.pools.get(region)
        if fn is None:
            settings = self.settings
            fn = self.pools[region] = LambdaEdgeFunction(
                self.spec(region),
                max_workers=settings.max_workers,
                max_queue=settings.max_queue,
                idle_s=settings.idle_s,
                node=settings.node,
                timeout_error=settings.timeout_error,
                budget=self.budget,
            )
        return fn

    async def close(self) -> None:
        pools, self.pools = list(self.pools.values()), {}
        for fn in pools:
            await fn.close()


class LambdaRegistry:
    """The lambdas of one distribution version (hot reload makes a new registry)."""

    def __init__(
        self,
        dist: Distribution,
        *,
        budget: WorkerBudget | None = None,
        clock_ms: Callable[[], float] | None = None,
    ) -> None:
        self.settings = dist.lambda_settings
        # The edge clock, epoch ms, for the workers' Date (None: the real time).
        self.clock_ms = clock_ms
        self.pop_regions = dict(dist.edges.pop_regions)
        self.budget = budget or WorkerBudget(self.settings.max_workers)
        self.slots: dict[str, LambdaSlot] = {
            name: LambdaSlot(decl, self.settings, self.budget)
            for name, decl in dist.lambdas.items()
        }

    def __bool__(self) -> bool:
        return bool(self.slots)

    def region_for(self, pop: str) -> str:
        return region_of(pop, self.pop_regions) if pop else HOME_REGION

    def function(self, name: str, pop: str) -> LambdaInvoker:
        return self.slots[name].function(self.region_for(pop))

    async def check(self, names: Mapping[str, LambdaSlot] | None = None) -> list[str]:
        """Load each lambda's module in a worker (Lambda's init phase), in its home region; one
        line per lambda that does not load or lacks its handler (the worker is kept for later
        invocations when it loads)."""
        errors = []
        for name, slot in (names or self.slots).items():
            try:
                await slot.function(HOME_REGION).check()
                slot.last_error = None
            except WorkerFailure as exc:
                detail = exc.message
                if exc.error is not None:
                    detail += f": {exc.error.error_type}: {exc.error.message}"
                slot.last_error = detail
                errors.append(f"lambda {name} ({slot.decl.file}): {detail}")
            except EdgesimError as exc:
                slot.last_error = str(exc)
                errors.append(f"lambda {name}: {exc}")
        return errors

    def carried_over(self, previous: LambdaRegistry | None) -> dict[str, LambdaSlot]:
        """Take over ``previous``'s slots for lambdas declared and run exactly as before (their
        workers keep their module state, as an unchanged Lambda version would); returns the
        slots that are new or changed, which still have to be checked."""
        changed: dict[str, LambdaSlot] = {}
        same_settings = previous is not None and previous.settings == self.settings
        for name, slot in self.slots.items():
            old = previous.slots.get(name) if previous is not None else None
            if same_settings and old is not None and old.decl == slot.decl:
                self.slots[name] = old
                continue
            if old is not None:
                slot.version = old.version + 1
            changed[name] = slot
        if same_settings and previous is not None:
            self.budget = previous.budget
            for slot in self.slots.values():
                slot.budget = self.budget
        return changed

    def keep_last_good(self, previous: LambdaRegistry, failed: list[str]) -> None:
        """After a failed check: the named lambdas go on with ``previous``'s version."""
        for name in failed:
            old = previous.slots.get(name)
            if old is not None:
                self.slots[name] = old

    def status(self) -> dict[str, dict[str, object]]:
        """Each lambda for ``/status``: its file, handler, version, last load error and the
        Node.js workers running per region."""
        return {
            name: {
                "file": str(slot.decl.file),
                "handler": slot.decl.handler,
                "runtime": slot.decl.runtime,
                "version": slot.version,
                "last_error": slot.last_error,
                "workers": {region: fn.pool.workers for region, fn in slot.pools.items()},
            }
            for name, slot in self.slots.items()
        }

    def files(self) -> list[Path]:
        """The source files hot reload watches (a directory's files are not watched)."""
        return [slot.decl.file for slot in self.slots.values() if slot.decl.file.is_file()]

    async def close(self, *, keep: LambdaRegistry | None = None) -> None:
        """Stop the workers of every slot not taken over by ``keep``."""
        kept = {id(slot) for slot in keep.slots.values()} if keep is not None else set()
        for slot in self.slots.values():
            if id(slot) not in kept:
                await slot.close()
