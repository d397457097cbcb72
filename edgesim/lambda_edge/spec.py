"""What a Lambda@Edge function is: its code, handler and settings, resolved from what users give.

``file`` may be a single ``.js``/``.mjs``/``.cjs`` file (handler ``<stem>.handler`` by default)
or a directory as users deploy it, with its ``node_modules`` (handler ``index.handler``), or
a ``.zip`` of that directory (unpacked once, see :mod:`edgesim.lambda_edge.package`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from edgesim.errors import InputError, NotEmulated
from edgesim.kvs.reader import ACCOUNT_ID
from edgesim.lambda_edge import limits

SOURCE_SUFFIXES = (".js", ".mjs", ".cjs")
# Lambda's function name rule (1–64 letters, digits, hyphens, underscores).
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Lambda@Edge functions live in us-east-1 ("Restrictions on Lambda@Edge" → Lambda Region); the
# copies CloudFront runs are named "us-east-1.<name>".
HOME_REGION = "us-east-1"


@dataclass(frozen=True)
class Credentials:
    """Role credentials handed to the function as AWS_ACCESS_KEY_ID etc. (emulated ones)."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


def role_credentials(
    given: Credentials | tuple[str, str] | tuple[str, str, str] | None = None,
) -> Credentials:
    """Credentials as a lambda receives them: ``given`` (an object, or a (key id, secret[,
    session token]) tuple), else the emulated execution role's that ``serve`` hands every lambda
    (``[lambda] credentials``' default), so a function behaves the same in every mode."""
    if isinstance(given, Credentials):
        return given
    if given is None:
        given = limits.EMULATED_ROLE_CREDENTIALS
    if not 2 <= len(given) <= 3 or not all(isinstance(part, str) for part in given):
        raise InputError(
            "credentials: expected (access key id, secret access key[, session token])"
        )
    return Credentials(given[0], given[1], given[2] if len(given) == 3 else None)


@dataclass(frozen=True)
class LambdaSpec:
    """One Lambda@Edge function. ``path`` is a source file or a package directory."""

    name: str
    path: Path
    handler: str | None = None
    runtime: str = "nodejs20.x"
    timeout_s: float = limits.DEFAULT_TIMEOUT_S
    memory_mb: int = limits.DEFAULT_MEMORY_MB
    version: str = "1"
    # The region the function runs in (the POP's regional edge cache); AWS_REGION.
    region: str = HOME_REGION
    credentials: Credentials | None = None
    # Local-only variables ([lambda.env]); Lambda@Edge itself has none but the reserved ones.
    env: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise InputError(
                f"lambda {self.name!r}: a name is 1-64 letters, digits, hyphens or underscores"
            )
        if self.runtime.startswith("python"):
            raise NotEmulated(
                f"lambda {self.name!r}: runtime {self.runtime} is not emulated yet "
                f"(edgesim runs {', '.join(limits.NODE_RUNTIMES)})"
            )
        if self.runtime not in limits.NODE_RUNTIMES:
            raise InputError(
                f"lambda {self.name!r}: runtime {self.runtime!r}: expected one of "
                f"{', '.join(limits.NODE_RUNTIMES)}"
            )
        if not 0 < self.timeout_s <= limits.MAX_LAMBDA_TIMEOUT_S:
            raise InputError(f"lambda {self.name!r}: timeout_s {self.timeout_s}: expected 0-900")
        if not limits.MIN_MEMORY_MB <= self.memory_mb <= limits.MAX_MEMORY_MB["origin"]:
            raise InputError(
                f"lambda {self.name!r}: memory_mb {self.memory_mb}: expected 128-10240"
            )

    @property
    def task_root(self) -> Path:
        return self.path if self.path.is_dir() else self.path.parent

    @property
    def handler_string(self) -> str:
        if self.handler:
            return self.handler
        if self.path.is_dir():
            return "index.handler"
        return f"{self.path.stem}.handler"

    @property
    def function_name(self) -> str:
        """As the function sees it in ``context.functionName``."""
        return f"{HOME_REGION}.{self.name}"

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{HOME_REGION}:{ACCOUNT_ID}:function:{self.name}:{self.version}"

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.function_name}"


def valid_name(name: str) -> bool:
    """Lambda's function name rule, as :class:`LambdaSpec` checks it."""
    return bool(_NAME.fullmatch(name))  # fullmatch: "$" alone would let a final newline in


def resolve_source(path: str | Path, *, what: str = "--lambda") -> Path:
    """Check that ``path`` is a usable source file or package directory; clear errors if not."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} {path}: no such file or directory")
    if p.is_dir():
        return p.resolve()
    if p.suffix == ".zip":
        from edgesim.lambda_edge.package import unpack

        return unpack(p.resolve())
    if p.suffix not in SOURCE_SUFFIXES:
        raise InputError(
            f"{what} {path}: expected a {'/'.join(SOURCE_SUFFIXES)} file or a directory"
        )
    return p.resolve()


def node_major(node: str) -> int | None:
    """The major version of ``node`` (``node --version``), or None when it does not say."""
    try:
        out = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.match(r"v(\d+)\.", out.strip())
    return int(match.group(1)) if match else None


def runtime_mismatch(runtime: str, node: str) -> str | None:
    """A sentence when the Node.js at ``node`` is not the runtime's major version."""
    wanted = int(runtime.removeprefix("nodejs").removesuffix(".x"))
    have = node_major(node)
    if have is None or have == wanted:
        return None
    return (
        f"runtime {runtime} but {node} is Node.js {have}: the function runs on Node.js {have} "
        f"(set the node used, or the runtime, to match)"
    )


def find_node(explicit: str | None = None) -> str:
    """The Node.js executable: ``explicit``, else ``node`` on PATH."""
    found = shutil.which(explicit or "node")
    if found is None:
        raise InputError(
            f"Node.js not found ({explicit or 'node'} on PATH): Lambda@Edge functions run in "
            "Node.js workers; install Node.js 18, 20 or 22"
        )
    return found


def worker_environment(spec: LambdaSpec) -> dict[str, str]:
    """The environment a worker runs with: scrubbed (never the developer's own ``AWS_*`` or any
    other variable), with Lambda's reserved variables set as the Node.js runtime has them
    (AWS Lambda Developer Guide, "Defined runtime environment variables")."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": "UTC",
        "_HANDLER": spec.handler_string,
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": f"edgesim/[{spec.version}]local",
        "LAMBDA_TASK_ROOT": str(spec.task_root),
    }
    if spec.credentials is not None:
        env["AWS_ACCESS_KEY_ID"] = spec.credentials.access_key_id
        env["AWS_SECRET_ACCESS_KEY"] = spec.credentials.secret_access_key
        if spec.credentials.session_token:
            env["AWS_SESSION_TOKEN"] = spec.credentials.session_token
    for key, value in spec.env.items():
        if key in env or key.startswith("AWS_"):
            raise InputError(
                f"lambda {spec.name!r}: env {key}: a reserved variable, set by the runtime"
            )
        env[key] = value
    return env
