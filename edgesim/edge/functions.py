"""The distribution's functions, loaded once and swapped on reload.

Each function is checked as ``edgesim test`` checks it: strict compatibility by default (a rule
CloudFront's runtime would break refuses the file), or the function's ``compat`` / ``rules``
settings. A version that fails to load never replaces a serving one: the last good version keeps
serving and the error is kept for ``/status`` and printed with file:line:col. A function with no
version at all (lenient mode, and the engine still cannot run it) answers as CloudFront answers
code it cannot run: 503 ``FunctionExecutionError``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from edgesim.distribution.model import FunctionDecl, Throttling
from edgesim.edge.throttling import ThrottleWindow
from edgesim.errors import EdgesimError, FunctionLoadError
from edgesim.kvs.reader import KvsReader
from edgesim.kvs.service import KvsService
from edgesim.runtime import CompatibilityError
from edgesim.runtime.function import BudgetPolicy, LoadedFunction
from edgesim.runtime.source import read_function

_HANDLER = re.compile(r"\bhandler\b")
_SERVE_HINT = (
    'Serve it anyway with compat = "lenient" (or rules = {...}) on the function in [[functions]].'
)


@dataclass
class FunctionSlot:
    decl: FunctionDecl
    throttle: ThrottleWindow
    function: LoadedFunction | None = None
    last_error: str | None = None
    loaded_at: float = 0.0
    versions: int = 0
    findings: list[str] = field(default_factory=list)  # compatibility warnings of this version
    warned: bool = False  # the warnings went to the request log since this version loaded


class FunctionRegistry:
    def __init__(
        self,
        decls: dict[str, FunctionDecl],
        *,
        kvs: KvsService | None,
        budget: BudgetPolicy | None = None,
        throttling: Throttling | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` times throttling windows (monotonic seconds); ``wall`` stamps each load
        (epoch seconds): both the edge clock's in serve."""
        self._kvs = kvs
        self._wall = wall
        self._budget = budget or BudgetPolicy()
        self._throttling = throttling or Throttling()
        self._clock = clock
        # Whether invocations are recorded in detail for the inspector (see
        # edgesim.edge.stages.functions.record_runs).
        self.recording = False
        self.slots: dict[str, FunctionSlot] = {
            name: FunctionSlot(decl, self._new_throttle()) for name, decl in decls.items()
        }

    def _new_throttle(self) -> ThrottleWindow:
        return ThrottleWindow(self._throttling, self._clock)

    def load_all(self) -> list[str]:
        """Load every function; returns the error messages (functions that failed stay unset)."""
        errors = []
        for name in self.slots:
            error = self.reload(name)
            if error:
                errors.append(error)
        return errors

    def replica(self, name: str, pop: str) -> KvsReader | None:
        store = self.slots[name].decl.kvs
        if store is None or self._kvs is None:
            return None
        # A frozen view for the whole invocation: AWS applies writes between invocations.
        return self._kvs.replica_of(store, pop).snapshot()

    def reload(self, name: str) -> str | None:
        """(Re)load one function; on failure keep the previous version and return the error."""
        slot = self.slots[name]
        decl = slot.decl
        try:
            source = read_function(decl.file)  # read once: this version is what gets loaded
            if not _HANDLER.search(source.text):
                # An editor that truncates before writing shows an empty file for a moment:
                # such a version cannot run at all, so it never replaces a serving one.
                raise FunctionLoadError(
                    f"{decl.file}: defines no handler function (an empty or half-saved file?)"
                )
            first_pop = self._kvs.pops[0] if self._kvs is not None else ""
            function = LoadedFunction(
                source,
                runtime=decl.runtime,
                kvs=self.replica(name, first_pop) if first_pop else None,
                budget=self._budget,
                compat=decl.compat,
                compat_overrides=dict(decl.rules),
            )
        except EdgesimError as exc:
            if isinstance(exc, CompatibilityError):
                exc = exc.with_hint(_SERVE_HINT)
            slot.last_error = f"{decl.file}: {exc}" if str(decl.file) not in str(exc) else str(exc)
            return f"function {name}: {slot.last_error}"
        slot.function = function
        slot.last_error = None
        slot.loaded_at = self._wall()
        slot.versions += 1
        slot.findings = [f.format(source.filename) for f in function.findings]
        slot.warned = False
        slot.throttle = self._new_throttle()  # a new version starts unthrottled
        return None

    def load_errors(self, *, strict_only: bool = False) -> list[str]:
        """One line per function whose last load failed (with the error); with
        ``strict_only``, only functions checked strictly."""
        return [
            f"function {name}: {slot.last_error}"
            for name, slot in self.slots.items()
            if slot.last_error and not (strict_only and slot.decl.compat == "lenient")
        ]

    def get(self, name: str) -> LoadedFunction | None:
        slot = self.slots.get(name)
        return None if slot is None else slot.function

    def status(self) -> list[dict[str, object]]:
        return [
            {
                "name": name,
                "file": str(slot.decl.file),
                "runtime": slot.decl.runtime,
                "kvs": slot.decl.kvs,
                "compat": slot.decl.compat,
                "loaded": slot.function is not None,
                "versions": slot.versions,
                "last_error": slot.last_error,
                "warnings": slot.findings,
                "throttled": slot.throttle.throttled(),
            }
            for name, slot in self.slots.items()
        ]
