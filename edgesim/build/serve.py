"""Build steps in ``edgesim serve``: built once before serving, rebuilt when a watched file
changes, each result said in the console and kept for ``/status``.

A change starts a build after a quiet spell (:data:`DEBOUNCE_S`: an editor's save, or ``git
checkout``, writes several files); a step runs one build at a time, and changes during a build
queue exactly one more run. A build that fails, times out or writes what CloudFront would refuse
leaves the functions as they were (the last good version keeps serving) and its own output is
shown; one that passes reloads its functions as any changed function file is reloaded (strict
compatibility check included), and its Lambda@Edge functions as a changed lambda file is (loaded
in a worker first). Functions and lambdas built by the same command share one step.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from edgesim.build.relabel import Relabeler, RelabelingStream
from edgesim.build.step import BuildReport, BuildStep
from edgesim.lambda_edge.limits import VIEWER_EVENTS

if TYPE_CHECKING:  # distribution reads the build keys with edgesim.build.globs: no cycle
    from edgesim.distribution.model import Behavior, FunctionDecl, LambdaDecl

DEBOUNCE_S = 0.2


Say = Callable[[str], None]


def strictest_events(behaviors: Iterable[Behavior]) -> dict[str, str]:
    """Each associated lambda's strictest event (a viewer event's quotas are the smaller): the
    one whose package quota a built lambda must fit, as the config check picks it."""
    events: dict[str, str] = {}
    for behavior in behaviors:
        for association in behavior.lambdas:
            seen = events.get(association.name)
            if seen is None or (
                association.event_type in VIEWER_EVENTS and seen not in VIEWER_EVENTS
            ):
                events[association.name] = association.event_type
    return events


class _Slot:
    """A step's scheduling state in serve."""

    def __init__(self, step: BuildStep, functions: list[str], lambdas: list[str]) -> None:
        self.step = step
        self.functions = functions
        self.lambdas = lambdas
        self.task: asyncio.Task[None] | None = None
        self.again = False
        self.changed_at = 0.0
        self.finished_at: float | None = None

    @property
    def names(self) -> str:
        """``a, b, c``: the functions and lambdas this step builds, as the console says."""
        return ", ".join([*self.functions, *self.lambdas])

    @property
    def label(self) -> str:
        """``function a, b; lambda c``: what this step builds."""
        parts = [f"function {', '.join(self.functions)}"] if self.functions else []
        if self.lambdas:
            parts.append(f"lambda {', '.join(self.lambdas)}")
        return "; ".join(parts)


class ServeBuilds:
    """Every build step of a distribution's functions and Lambda@Edge functions."""

    def __init__(
        self,
        functions: Mapping[str, FunctionDecl],
        lambdas: Mapping[str, LambdaDecl] | None = None,
        behaviors: Iterable[Behavior] = (),
    ) -> None:
        self.relabeler = Relabeler()
        self.slots: list[_Slot] = []
        self.update(functions, lambdas, behaviors)

    def __bool__(self) -> bool:
        return bool(self.slots)

    def update(
        self,
        functions: Mapping[str, FunctionDecl],
        lambdas: Mapping[str, LambdaDecl] | None = None,
        behaviors: Iterable[Behavior] = (),
    ) -> None:
        """Take a (re)loaded config's functions and lambdas: one step per distinct command and
        directory; a step that did not change keeps its state (last build, files it wrote).
        ``behaviors``' associations give each built lambda's package quota."""
        old = {(s.step.command, s.step.cwd): s for s in self.slots}
        events = strictest_events(behaviors)
        groups: dict[tuple[str, Path], tuple[list[FunctionDecl], list[LambdaDecl]]] = {}
        for fn in functions.values():
            if fn.build is not None:
                groups.setdefault((fn.build, fn.build_dir or Path.cwd()), ([], []))[0].append(fn)
        for lam in (lambdas or {}).values():
            if lam.build is not None:
                groups.setdefault((lam.build, lam.build_dir or Path.cwd()), ([], []))[1].append(lam)
        slots = []
        for (command, cwd), (fns, lams) in groups.items():
            decls: list[FunctionDecl | LambdaDecl] = [*fns, *lams]
            outputs = [d.file for d in fns]
            lambda_outputs = [d.file for d in lams]
            package_events = {d.file: events[d.name] for d in lams if d.name in events}
            watch = [g for d in decls for g in d.watch]
            timeout = max(d.build_timeout_s for d in decls)
            kept = old.get((command, cwd))
            if (
                kept is not None
                and kept.step.outputs == outputs
                and kept.step.lambda_outputs == lambda_outputs
                and kept.step.globs.globs == tuple(watch)
            ):
                kept.functions = [d.name for d in fns]
                kept.lambdas = [d.name for d in lams]
                kept.step.timeout_s = timeout
                kept.step.package_events = package_events
                slots.append(kept)
                continue
            step = BuildStep(
                command, cwd, outputs=outputs, lambda_outputs=lambda_outputs,
                package_events=package_events, watch=watch, timeout_s=timeout,
                relabeler=self.relabeler,
            )  # fmt: skip
            slots.append(_Slot(step, [d.name for d in fns], [d.name for d in lams]))
        self.slots = slots

    # -- start-up -----------------------------------------------------------------------------
    def build_all(self, say: Say, say_error: Say) -> None:
        """Run every build once, before the functions load (start-up)."""
        for slot in self.slots:
            watching = ", ".join(slot.step.globs.globs)
            say(
                f"building {slot.names}: `{slot.step.command}` in {slot.step.cwd}"
                f" (watch: {watching})"
            )
            self._report(slot, slot.step.run(), say, say_error)

    def failures(self) -> list[str]:
        """One entry per step whose last build did not pass (serve refuses to start on them)."""
        # The build's output was printed as it finished: one line each here.
        return [
            f"{s.label}: {s.step.last.describe().splitlines()[0]}"
            for s in self.slots
            if s.step.last is not None and not s.step.last.ok
        ]

    # -- watching -------------------------------------------------------------------------------
    def roots(self) -> set[Path]:
        return {root for slot in self.slots for root in slot.step.globs.roots()}

    def outputs(self) -> set[Path]:
        """The built files (and their maps): the watcher leaves them to the builds."""
        return {
            path.resolve()
            for slot in self.slots
            for out in slot.step.outputs
            for path in (out, out.with_name(out.name + ".map"))
        } | {out.resolve() for slot in self.slots for out in slot.step.lambda_outputs}

    def changed(
        self, paths: set[Path], reload: Callable[[Path], object], say: Say, say_error: Say
    ) -> list[asyncio.Task[None]]:
        """Start (after the debounce) the builds these changed files concern; returns the
        tasks started (a step already building reruns once when done)."""
        started = []
        for slot in self.slots:
            if not any(slot.step.concerns(p) for p in paths):
                continue
            slot.changed_at = time.monotonic()
            if slot.task is not None and not slot.task.done():
                slot.again = True
                continue
            slot.task = asyncio.create_task(self._rebuild(slot, reload, say, say_error))
            started.append(slot.task)
        return started

    async def _rebuild(
        self, slot: _Slot, reload: Callable[[Path], object], say: Say, say_error: Say
    ) -> None:
        while True:
            # Wait for a quiet spell: more saves may follow.
            while (wait := slot.changed_at + DEBOUNCE_S - time.monotonic()) > 0:  # noqa: ASYNC110
                await asyncio.sleep(wait)
            slot.again = False
            say(f"rebuilding {slot.names}: `{slot.step.command}`")
            report = await slot.step.run_async()
            self._report(slot, report, say, say_error)
            if report.ok:
                for output in [*slot.step.outputs, *slot.step.lambda_outputs]:
                    reload(output)
            if not slot.again:
                return

    def _report(self, slot: _Slot, report: BuildReport, say: Say, say_error: Say) -> None:
        slot.finished_at = time.time()
        for note in report.notes:
            say(note)
        if report.ok:
            say(report.describe())
        else:
            say_error(
                self.relabeler.text(report.describe())
                + "\nnot reloaded: still serving the last good version"
            )

    async def idle(self) -> None:
        """Wait until no build is running or queued (tests)."""
        while any(s.task is not None and not s.task.done() for s in self.slots):
            await asyncio.gather(*(s.task for s in self.slots if s.task is not None))

    def cancel(self) -> None:
        """Stop the builds running or queued (the watcher is stopping)."""
        for slot in self.slots:
            if slot.task is not None and not slot.task.done():
                slot.task.cancel()

    # -- reporting ------------------------------------------------------------------------------
    def wrap(self, stream: TextIO) -> TextIO:
        """``stream``, relabeling positions when some function is built."""
        return cast(TextIO, RelabelingStream(stream, self.relabeler)) if self.slots else stream

    def status(self) -> list[dict[str, Any]]:
        rows = []
        for slot in self.slots:
            last = slot.step.last
            rows.append(
                {
                    "functions": slot.functions,
                    "lambdas": slot.lambdas,
                    "command": slot.step.command,
                    "cwd": str(slot.step.cwd),
                    "watch": list(slot.step.globs.globs),
                    "runs": slot.step.runs,
                    "building": slot.task is not None and not slot.task.done(),
                    "ok": None if last is None else last.ok,
                    "finished_at_ms": (
                        None if slot.finished_at is None else round(slot.finished_at * 1000)
                    ),
                    "seconds": None if last is None else round(last.outcome.seconds, 3),
                    "output": None if last is None else self.relabeler.text(last.outcome.output),
                    "problems": [] if last is None else [
                        self.relabeler.text(p) for p in last.problems
                    ],
                    "source_maps": {
                        str(path): (None if m is None else str(m.map_path or "inline"))
                        for path, m in ({} if last is None else last.maps).items()
                    },
                }
            )  # fmt: skip
        return rows

    def relabel_functions(self, functions: list[dict[str, object]]) -> list[dict[str, object]]:
        """``/status``'s function rows with positions in the sources."""
        if not self.relabeler:
            return functions
        fixed = []
        for row in functions:
            row = dict(row)
            if isinstance(row.get("last_error"), str):
                row["last_error"] = self.relabeler.text(str(row["last_error"]))
            warnings = row.get("warnings")
            if isinstance(warnings, list):
                row["warnings"] = [self.relabeler.text(str(w)) for w in warnings]
            fixed.append(row)
        return fixed
