"""Lambda@Edge: a behaviour's ``LambdaFunctionAssociations`` → ``LambdaAssociation``, and the
functions they name (``bundle.lambdas``) → ``LambdaDecl`` (inline code written under
``workdir``).

What CloudFront itself refuses is refused here, each with where it was written:

- ``LambdaFunctionARN`` must name a function *version*: "You must specify the ARN of a function
  version; you can't specify an alias or $LATEST" (CloudFront API Reference,
  LambdaFunctionAssociation);
- one association per event type, and no Lambda@Edge viewer event in a behaviour that has a
  CloudFront function ("You can't combine CloudFront Functions and Lambda@Edge in viewer
  events", Developer Guide, Restrictions on all edge functions);
- ``IncludeBody`` only on request events (viewer-request, origin-request);
- a viewer-event function over the viewer quotas (128 MB, 5 s; Quotas on Lambda@Edge);
- a function outside us-east-1 (Lambda@Edge functions are authored in US East (N. Virginia)).

A function with a Python runtime is kept out of the model with a note: edgesim runs Node.js
functions only (``edgesim.lambda_edge.limits.NODE_RUNTIMES``).
"""

from __future__ import annotations

import re
from pathlib import Path

from edgesim.distribution.model import LambdaAssociation, LambdaDecl, LambdaEventType
from edgesim.importers.apishape.functions import abs_path, write_if_changed
from edgesim.importers.apishape.shape import Node
from edgesim.importers.apishape.state import ConverterState
from edgesim.importers.bundle import LambdaSource
from edgesim.lambda_edge import limits
from edgesim.lambda_edge.package import check_package

# arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
_LAMBDA_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]*):(?P<account>[0-9]*):function:"
    r"(?P<name>[A-Za-z0-9_.-]+)(?::(?P<qualifier>[^:]+))?$"
)
_VERSION = re.compile(r"[0-9]+")
LAMBDA_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_EVENTS: tuple[LambdaEventType, ...] = (
    "viewer-request",
    "origin-request",
    "origin-response",
    "viewer-response",
)
_SOURCE_SUFFIXES = (".js", ".mjs", ".cjs", ".zip")


def arn_function_name(arn: str) -> str | None:
    """The function name in a Lambda ARN (qualified or not), or None for another string."""
    match = _LAMBDA_ARN.match(arn)
    return match.group("name") if match else None


class LambdasMixin(ConverterState):
    """Lambda@Edge associations and the functions they use."""

    def _lambda_associations(
        self, node: Node, label: str, has_function: bool
    ) -> tuple[LambdaAssociation, ...]:
        chosen: dict[str, LambdaAssociation] = {}
        for item in node.nodes("LambdaFunctionAssociations"):
            event = item.text("EventType")
            arn = item.text("LambdaFunctionARN")
            if event is None or arn is None:
                item.error(None, "needs EventType and LambdaFunctionARN")
                continue
            event_type = next((e for e in _EVENTS if e == event), None)
            if event_type is None:
                item.error("EventType", f"{event!r} is not one of {', '.join(_EVENTS)}")
                continue
            if event in chosen:
                item.error("EventType", f"a second {event} Lambda@Edge function (one per event)")
                continue
            if has_function and event in limits.VIEWER_EVENTS:
                item.error(
                    "EventType",
                    f"a Lambda@Edge {event} function in a behaviour with a CloudFront function: "
                    "CloudFront does not combine them on viewer events",
                )
                continue
            include_body = item.flag("IncludeBody", False)
            if include_body and event not in limits.REQUEST_EVENTS:
                item.error("IncludeBody", "is for request events (viewer-request, origin-request)")
                continue
            name = self._lambda_name(item, arn)
            if name is None:
                continue
            source = self.bundle.lambdas[name]
            runtime = source.runtime or "nodejs20.x"
            if runtime.startswith("python"):
                self.notes.add(
                    f"Lambda@Edge {event} function {name} ({runtime}): not emulated yet (edgesim "
                    f"runs {', '.join(limits.NODE_RUNTIMES)}): requests go on as if it "
                    "returned them unchanged",
                    label,
                )
                continue
            self._check_quotas(item, source, event)
            self.used_lambdas.setdefault(name, item.path)
            self.lambda_events.setdefault(name, []).append((event, item.path))
            chosen[event] = LambdaAssociation(event_type, self._model_name(name), include_body)
        return tuple(chosen[e] for e in _EVENTS if e in chosen)

    def _lambda_name(self, item: Node, arn: str) -> str | None:
        """The ``bundle.lambdas`` key an association's ARN names, or None (reported)."""
        match = _LAMBDA_ARN.match(arn)
        qualifier = match.group("qualifier") if match else None
        if match is not None and (qualifier is None or not _VERSION.fullmatch(qualifier)):
            what = (
                "has no version"
                if qualifier is None
                else ("is $LATEST" if qualifier == "$LATEST" else f"names alias {qualifier!r}")
            )
            item.error(
                "LambdaFunctionARN",
                f"{arn} {what}: CloudFront needs the ARN of a published function version "
                "(…:function:NAME:1), not an alias or $LATEST",
            )
            return None
        region = match.group("region") if match else ""
        if region and region != "us-east-1":
            # Developer Guide, "Customize at the edge with Lambda@Edge": functions are authored
            # in one Region, US East (N. Virginia).
            item.error(
                "LambdaFunctionARN",
                f"{arn} is in {region}: Lambda@Edge functions are created in us-east-1",
            )
            return None
        found = self.bundle.lambda_arns.get(arn)
        if found is not None and found in self.bundle.lambdas:
            return found
        function = match.group("name") if match else arn
        for candidate in (arn, function):
            if candidate in self.bundle.lambdas:
                return candidate
        if match is None and not LAMBDA_NAME.fullmatch(arn):
            item.error("LambdaFunctionARN", f"{arn!r} is not a Lambda function version ARN")
            return None
        known = sorted(self.bundle.lambdas)
        listing = f" (Lambda@Edge functions in the import: {', '.join(known)})" if known else ""
        item.error(
            "LambdaFunctionARN",
            f"the code of Lambda@Edge function {function} is not part of the import{listing}; "
            f"give it with --lambda {arn}=PATH (a .js/.mjs/.cjs file, a package directory or "
            "a .zip)",
        )
        return None

    def _model_name(self, name: str) -> str:
        """The name in the model: edgesim.toml's names are unique across ``[[functions]]`` and
        ``[[lambdas]]`` (AWS keeps them apart), so a lambda named like a CloudFront function of
        the import gets ``-lambda`` added."""
        if name not in self.bundle.functions:
            return name
        candidate, counter = f"{name}-lambda", 2
        while candidate in self.bundle.functions or candidate in self.bundle.lambdas:
            candidate, counter = f"{name}-lambda{counter}", counter + 1
        return candidate

    def _check_quotas(self, item: Node, source: LambdaSource, event: str) -> None:
        cls = limits.event_class(event)
        memory = source.memory_mb or limits.DEFAULT_MEMORY_MB
        timeout = source.timeout_s or limits.DEFAULT_TIMEOUT_S
        if memory < limits.DEFAULT_MEMORY_MB:  # Lambda's smallest MemorySize is 128 MB
            item.error("EventType", f"function {source.name}: {memory} MB is below Lambda's 128")
        elif memory > limits.MAX_MEMORY_MB[cls] or timeout > limits.MAX_TIMEOUT_S[cls]:
            item.error(
                "EventType",
                f"function {source.name} ({memory} MB, {timeout:g} s, {source.where or 'here'}) "
                f"is over the {cls} event quotas ({limits.MAX_MEMORY_MB[cls]} MB, "
                f"{limits.MAX_TIMEOUT_S[cls]} s; Quotas on Lambda@Edge)",
            )

    def _lambda_decls(self) -> dict[str, LambdaDecl]:
        decls: dict[str, LambdaDecl] = {}
        for name in self.used_lambdas:
            decl = self._lambda_decl(self.bundle.lambdas[name], f"lambdas.{name}")
            if decl is not None:
                decls[decl.name] = decl
                self._check_package(decl, self.lambda_events[name])
        for name, source in self.bundle.lambdas.items():
            if name not in self.used_lambdas and source.where.startswith("--lambda"):
                # A typo in the flag's key shows here (the association reports its own error).
                self.notes.add(f"{source.where}: no Lambda@Edge association uses {name}: not run")
        return decls

    def _check_package(self, decl: LambdaDecl, events: list[tuple[str, str]]) -> None:
        """The compressed package against its strictest event (Quotas on Lambda@Edge: 1 MB
        for viewer events, 50 MB for origin events), reported at that association."""
        viewer = [e for e in events if e[0] in limits.VIEWER_EVENTS]
        event, path = (viewer or events)[0]
        try:
            problem = check_package(decl.file, event)
        except OSError as exc:
            problem = f"{decl.file}: cannot read the package: {exc.strerror or exc}"
        if problem is not None:
            self.problems.add(
                f"{path}.LambdaFunctionARN", f"{event} function {decl.name}: {problem}"
            )

    def _lambda_decl(self, source: LambdaSource, at: str) -> LambdaDecl | None:
        """``at``: the bundle's ``where`` key of the function (``lambdas.<bundle key>``)."""
        name = self._model_name(at.removeprefix("lambdas."))
        self.where[f"lambdas.{name}"] = self.problems.place(at)
        if not LAMBDA_NAME.fullmatch(name):
            self.problems.add(at, f"Lambda@Edge function name {name!r}: 1-64 of A-Z a-z 0-9 - _")
            return None
        runtime = source.runtime or "nodejs20.x"
        if runtime not in limits.NODE_RUNTIMES:
            self.problems.add(
                f"{at}.Runtime",
                f"runtime {runtime!r}: Lambda@Edge runs Node.js and Python; edgesim runs "
                f"{', '.join(limits.NODE_RUNTIMES)}",
            )
            return None
        file = self._lambda_file(source, at, name)
        if file is None:
            return None
        return LambdaDecl(
            name=name,
            file=file,
            handler=source.handler,
            runtime=runtime,
            timeout_s=float(source.timeout_s or limits.DEFAULT_TIMEOUT_S),
            memory_mb=int(source.memory_mb or limits.DEFAULT_MEMORY_MB),
        )

    def _lambda_file(self, source: LambdaSource, at: str, name: str) -> Path | None:
        if source.code is not None:
            # CloudFormation puts inline code in a file named index (index.js for Node.js).
            directory = self.workdir / "lambdas" / name
            write_if_changed(directory / "index.js", source.code.encode("utf-8"))
            return abs_path(directory)
        if source.file is None:
            why = f" ({source.missing})" if source.missing else ""
            self.problems.add(
                at,
                f"the code of Lambda@Edge function {name} is not a local file{why}: give it "
                f"with --lambda {name}=PATH (a .js/.mjs/.cjs file, a package directory or a .zip)",
            )
            return None
        path = Path(source.file)
        if path.is_dir() or (path.is_file() and path.suffix in _SOURCE_SUFFIXES):
            return abs_path(path)
        found = "does not exist" if not path.exists() else "is not a .js/.mjs/.cjs/.zip file"
        self.problems.add(at, f"Lambda@Edge code {path} {found}")
        return None
