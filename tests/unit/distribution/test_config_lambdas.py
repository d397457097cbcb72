"""[[lambdas]], [lambda] and Lambda@Edge associations in edgesim.toml: every spelling read into
the model, every start-up refusal naming its key path and the documented rule."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgesim.cli import main
from edgesim.distribution.model import Behavior, LambdaAssociation, LambdaSettings
from edgesim.lambda_edge.spec import LambdaSpec, resolve_source
from tests.unit.distribution.helpers import (
    BASE,
    DEFAULT,
    ORIGIN,
    assert_problem,
    fn,
    named_cases,
    parse,
)

EVENTS = ("viewer-request", "origin-request", "origin-response", "viewer-response")
NODE_SETTING = '[lambda]\nnode = "./fake-node"\n'


def fake_node(directory: Path, version: str = "v20.11.1", name: str = "fake-node") -> Path:
    """A stand-in for Node.js that answers ``--version``: the checks never start a real one."""
    path = directory / name
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def lproject(project: Path) -> Path:
    """The config tests' project plus lambda sources: two files, a package directory with its
    node_modules, a zip of it, and the fake Node.js."""
    (project / "auth.js").write_text("exports.handler = async (e) => e.Records[0].cf.request;\n")
    (project / "sign.mjs").write_text(
        "export const handler = async (e) => e.Records[0].cf.request;\n"
    )
    pkg = project / "pkg"
    (pkg / "node_modules" / "lib").mkdir(parents=True)
    (pkg / "index.js").write_text("exports.handler = require('lib').handler;\n")
    (pkg / "node_modules" / "lib" / "index.js").write_text("exports.handler = async () => null;\n")
    with zipfile.ZipFile(project / "pkg.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("index.js", "exports.handler = async (e) => e.Records[0].cf.request;\n")
    fake_node(project)
    return project


def lam(name: str, file: str = "auth.js", extra: str = "") -> str:
    return f'[[lambdas]]\nname = "{name}"\nfile = "{file}"\n{extra}\n'


def behavior(extra: str) -> str:
    return '[[behaviors]]\npath = "/x"\norigin = "app"\n' + extra + "\n"


def doc(*parts: str, default: str = DEFAULT) -> str:
    """An origin, the fake Node.js, the given tables and a default behaviour."""
    return ORIGIN + NODE_SETTING + "".join(parts) + default


def test_every_form_is_read_into_the_model(lproject: Path) -> None:
    dist = parse(
        lproject,
        ORIGIN
        + fn()
        + lam("auth", "auth.js", 'handler = "auth.check"\ntimeout_s = 5\nruntime = "nodejs20.x"')
        + lam("sign", "sign.mjs", "timeout_s = 30\nmemory_mb = 1024")
        + lam("pkg", "pkg")
        + lam("zipped", "pkg.zip")
        + "[lambda]\n"
        + 'node = "./fake-node"\nmax_workers = 2\nmax_queue = 0\nidle_s = 1.5\n'
        + 'timeout_error = "LambdaLimitExceeded"\n'
        + 'credentials = { access_key_id = "AKIA1", secret_access_key = "s" }\n'
        + '[lambda.env]\nSTAGE = "dev"\nTABLE_NAME = "t"\n'
        + behavior(
            'viewer_request = "auth"\n'
            'origin_request = { lambda = "sign", include_body = true }\n'
            'lambda_function_associations = [{ event_type = "origin-response", lambda = "pkg" }]'
        )
        + '[default_behavior]\norigin = "app"\nviewer_request = "fn"\norigin_request = "zipped"\n',
    )
    auth, sign, pkg, zipped = (dist.lambdas[n] for n in ("auth", "sign", "pkg", "zipped"))
    assert (auth.file, auth.handler, auth.timeout_s, auth.memory_mb) == (
        lproject / "auth.js",
        "auth.check",
        5.0,
        128,
    )
    assert (sign.runtime, sign.timeout_s, sign.memory_mb) == ("nodejs20.x", 30.0, 1024)
    assert pkg.file == lproject / "pkg"
    assert zipped.file == lproject / "pkg.zip"
    first, default = dist.behaviors[0], dist.default_behavior
    assert first.viewer_request is None
    assert first.lambdas == (
        LambdaAssociation("viewer-request", "auth"),
        LambdaAssociation("origin-request", "sign", include_body=True),
        LambdaAssociation("origin-response", "pkg"),
    )
    # A CloudFront Function on a viewer event beside a lambda on an origin event is allowed.
    assert default.viewer_request == "fn"
    assert default.lambdas == (LambdaAssociation("origin-request", "zipped"),)
    assert default.lambda_at("origin-request") == LambdaAssociation("origin-request", "zipped")
    assert default.lambda_at("viewer-request") is None
    assert dist.lambda_settings == LambdaSettings(
        node=str(lproject / "fake-node"),
        max_workers=2,
        max_queue=0,
        idle_s=1.5,
        timeout_error="LambdaLimitExceeded",
        env=(("STAGE", "dev"), ("TABLE_NAME", "t")),
        credentials=("AKIA1", "s", ""),
    )
    assert dist.notes == ()


def test_defaults_and_default_handlers(lproject: Path) -> None:
    dist = parse(
        lproject,
        doc(
            lam("one", "auth.js"),
            lam("dir", "pkg"),
            lam("zip", "pkg.zip"),
            default=DEFAULT + 'origin_request = "one"\norigin_response = "dir"\n'
            'viewer_response = "zip"\n',
        ),
    )
    one = dist.lambdas["one"]
    assert (one.handler, one.runtime, one.timeout_s, one.memory_mb) == (
        None,
        "nodejs20.x",
        3.0,
        128,
    )
    # handler None: the spec's default, index.handler for a package, <stem>.handler for a file.
    handlers = {
        name: LambdaSpec(name, resolve_source(decl.file)).handler_string
        for name, decl in dist.lambdas.items()
    }
    assert handlers == {"one": "auth.handler", "dir": "index.handler", "zip": "index.handler"}
    assert dist.lambda_settings.credentials == LambdaSettings().credentials
    assert dist.lambda_settings.node == str(lproject / "fake-node")


SPELLINGS = ("shorthand", "table", "array")


def spelled(event: str, name: str, include_body: bool, spelling: str) -> tuple[str, str]:
    """(a behaviour key line, or an array item) for one association in one spelling."""
    key = event.replace("-", "_")
    body = f", include_body = {str(include_body).lower()}" if include_body else ""
    if spelling == "shorthand":
        return f'{key} = "{name}"\n', ""
    if spelling == "table":
        return f'{key} = {{ lambda = "{name}"{body} }}\n', ""
    return "", f'{{ event_type = "{event}", lambda = "{name}"{body} }}'


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40)
@given(
    chosen=st.dictionaries(
        st.sampled_from(EVENTS),
        st.tuples(st.sampled_from(["a", "b"]), st.booleans(), st.sampled_from(SPELLINGS)),
        min_size=1,
    )
)
def test_the_three_spellings_of_an_association_give_the_same_behaviour(
    lproject: Path, chosen: dict[str, tuple[str, bool, str]]
) -> None:
    lines, items, expected = [], [], []
    for event in EVENTS:
        if event not in chosen:
            continue
        name, include_body, spelling = chosen[event]
        include_body = include_body and event.endswith("request") and spelling != "shorthand"
        line, item = spelled(event, name, include_body, spelling)
        lines.append(line)
        if item:
            items.append(item)
        expected.append(LambdaAssociation(event, name, include_body))  # type: ignore[arg-type]
    if items:
        lines.append(f"lambda_function_associations = [{', '.join(items)}]\n")
    text = doc(lam("a", "auth.js"), lam("b", "sign.mjs"), behavior("".join(lines)))
    read: Behavior = parse(lproject, text).behaviors[0]
    assert read.lambdas == tuple(expected)
    for association in expected:
        assert read.lambda_at(association.event_type) == association
    assert (read.viewer_request, read.viewer_response) == (None, None)


def test_a_lambda_associated_with_no_behaviour_is_a_note(lproject: Path) -> None:
    dist = parse(lproject, doc(lam("spare")))
    assert dist.lambdas["spare"].name == "spare"
    assert dist.notes == (
        "edgesim.toml: lambdas[0]: lambda 'spare' is associated with no behaviour: it is never run",
    )


def test_a_runtime_other_than_the_node_major_version_is_a_note_not_an_error(
    lproject: Path,
) -> None:
    fake_node(lproject, "v18.20.4", "node18")
    text = BASE + '[lambda]\nnode = "./node18"\n' + lam("a", "auth.js", 'runtime = "nodejs20.x"')
    text += lam("b", "auth.js", 'runtime = "nodejs18.x"')
    text += behavior('origin_request = "a"\norigin_response = "b"')
    notes = parse(lproject, text).notes
    assert len(notes) == 1, notes
    assert notes[0].startswith("edgesim.toml: lambdas[0].runtime: lambda 'a': runtime nodejs20.x")
    assert "is Node.js 18" in notes[0]


def test_node_is_looked_up_on_path_when_not_given(
    lproject: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = lproject / "bin"
    bin_dir.mkdir()
    fake_node(bin_dir, "v22.1.0", "node")
    monkeypatch.setenv("PATH", str(bin_dir))
    text = BASE + lam("a", "auth.js", 'runtime = "nodejs22.x"') + behavior('origin_request = "a"')
    dist = parse(lproject, text)
    assert dist.lambda_settings.node is None
    assert dist.notes == ()
    monkeypatch.setenv("PATH", str(lproject / "empty"))
    assert_problem(lproject, text, "edgesim.toml: lambdas: Node.js not found (node on PATH)")
    # No lambda: no Node.js needed.
    parse(lproject, BASE)


def test_a_package_over_the_viewer_quota_is_refused_and_fits_an_origin_event(
    lproject: Path,
) -> None:
    (lproject / "big").mkdir()
    (lproject / "big" / "index.js").write_text("exports.handler = async () => null;\n")
    (lproject / "big" / "blob.bin").write_bytes(os.urandom(1_100_000))  # incompressible
    origin = doc(lam("big", "big"), behavior('origin_request = "big"'))
    assert parse(lproject, origin).lambdas["big"].file == lproject / "big"
    viewer = doc(lam("big", "big"), behavior('viewer_request = "big"\norigin_request = "big"'))
    assert_problem(
        lproject,
        viewer,
        "edgesim.toml: lambdas[0].file: " + str(lproject / "big") + ": the package is at least ",
    )
    assert_problem(
        lproject,
        viewer,
        "the quota for viewer events is 1,048,576 (Quotas on Lambda@Edge: maximum compressed "
        "size of a function and its libraries); lambda 'big' runs on viewer-request at "
        "behaviors[0].viewer_request",
    )


def test_a_bad_configuration_exits_2_listing_every_problem(
    lproject: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = lproject / "edgesim.toml"
    config.write_text(
        doc(
            lam("py", "auth.js", 'runtime = "python3.12"'),
            lam("slow", "auth.js", "timeout_s = 6"),
            behavior(
                'viewer_request = "slow"\norigin_response = { lambda = "py", include_body = true }'
            ),
        )
    )
    assert main(["serve", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "3 problems in the configuration" in err
    assert "lambdas[0].runtime: python3.12 is not emulated yet" in err
    assert "behaviors[0].origin_response.include_body: include_body is for request events" in err
    assert "behaviors[0].viewer_request: lambda 'slow' (lambdas[1]): timeout 6 s is over" in err


FUNCTION = fn()
TWO = lam("a", "auth.js") + lam("b", "sign.mjs")

CASES = named_cases(
    [
        # [[lambdas]]
        (
            "python-runtime",
            doc(lam("a", "auth.js", 'runtime = "python3.12"')),
            "edgesim.toml: lambdas[0].runtime: python3.12 is not emulated yet: edgesim runs "
            "Lambda@Edge functions written for Node.js (nodejs18.x, nodejs20.x, nodejs22.x)",
        ),
        (
            "unknown-runtime",
            doc(lam("a", "auth.js", 'runtime = "nodejs20"')),
            "edgesim.toml: lambdas[0].runtime: unknown runtime 'nodejs20' (did you mean "
            "'nodejs20.x'?)",
        ),
        (
            "bad-name",
            doc(lam("a.b")),
            "edgesim.toml: lambdas[0].name: lambda name 'a.b' must be 1-64 characters from "
            "A-Z a-z 0-9 - _ (Lambda's function name rule)",
        ),
        (
            "duplicate-name",
            doc(lam("a"), lam("a")),
            "edgesim.toml: lambdas[1].name: duplicate lambda 'a' (first declared at lambdas[0])",
        ),
        (
            "name-shared-with-a-function",
            doc(FUNCTION, lam("fn")),
            "edgesim.toml: lambdas[0].name: 'fn' is also a [[functions]] name; names are unique "
            "across [[functions]] and [[lambdas]]",
        ),
        (
            "missing-file",
            doc(lam("a", "nope.js")),
            "edgesim.toml: lambdas[0].file: lambda file 'nope.js' does not exist (looked for ",
        ),
        (
            "not-javascript",
            doc(lam("a", "seed.json")),
            "edgesim.toml: lambdas[0].file: lambda file ",
        ),
        (
            "not-javascript-rule",
            doc(lam("a", "seed.json")),
            "seed.json: expected a .js/.mjs/.cjs file or a directory",
        ),
        (
            "not-a-zip",
            doc(lam("a", "bad.zip")),
            "not a zip archive",
        ),
        (
            "file-required",
            doc('[[lambdas]]\nname = "a"\n'),
            "edgesim.toml: lambdas[0].file: is required",
        ),
        (
            "handler-with-space",
            doc(lam("a", "auth.js", 'handler = "auth handler"')),
            "edgesim.toml: lambdas[0].handler: 'auth handler': a handler is at most 128 "
            "characters without spaces",
        ),
        (
            "timeout-over-lambda",
            doc(lam("a", "auth.js", "timeout_s = 901")),
            "edgesim.toml: lambdas[0].timeout_s: 901 s is over Lambda's maximum of 900 s; "
            "Lambda@Edge allows 30 s on origin events and 5 s on viewer events (Quotas on "
            "Lambda@Edge)",
        ),
        (
            "timeout-not-positive",
            doc(lam("a", "auth.js", "timeout_s = 0")),
            "edgesim.toml: lambdas[0].timeout_s: 0 is out of range (must be more than 0)",
        ),
        (
            "memory-under-lambda",
            doc(lam("a", "auth.js", "memory_mb = 64")),
            "edgesim.toml: lambdas[0].memory_mb: 64 MB is out of range: Lambda allows 128 to "
            "10,240 MB, the most origin events allow; viewer events allow 128 MB (Quotas on "
            "Lambda@Edge)",
        ),
        (
            "memory-over-origin-quota",
            doc(lam("a", "auth.js", "memory_mb = 10241")),
            "edgesim.toml: lambdas[0].memory_mb: 10241 MB is out of range: Lambda allows 128 to "
            "10,240 MB",
        ),
        (
            "unknown-lambda-key",
            doc(lam("a", "auth.js", "timeout = 3")),
            "edgesim.toml: lambdas[0].timeout: unknown key (did you mean 'timeout_s'?)",
        ),
        # Quotas per event (Quotas on Lambda@Edge)
        (
            "viewer-timeout",
            doc(lam("a", "auth.js", "timeout_s = 5.5"), behavior('viewer_request = "a"')),
            "edgesim.toml: behaviors[0].viewer_request: lambda 'a' (lambdas[0]): timeout 5.5 s "
            "is over the 5 s quota for viewer events (Quotas on Lambda@Edge)",
        ),
        (
            "viewer-memory",
            doc(lam("a", "auth.js", "memory_mb = 256"), behavior('viewer_response = "a"')),
            "edgesim.toml: behaviors[0].viewer_response: lambda 'a' (lambdas[0]): memory 256 MB "
            "is over the 128 MB quota for viewer events (Quotas on Lambda@Edge)",
        ),
        (
            "origin-timeout",
            doc(
                lam("a", "auth.js", "timeout_s = 31"),
                behavior(
                    'lambda_function_associations = [{ event_type = "origin-request", '
                    'lambda = "a" }]'
                ),
            ),
            "edgesim.toml: behaviors[0].lambda_function_associations[0]: lambda 'a' "
            "(lambdas[0]): timeout 31 s is over the 30 s quota for origin events",
        ),
        (
            "one-lambda-two-events-checked-against-the-stricter",
            doc(
                lam("a", "auth.js", "timeout_s = 10"),
                behavior('origin_request = "a"'),
                default=DEFAULT + 'viewer_request = "a"\n',
            ),
            "edgesim.toml: default_behavior.viewer_request: lambda 'a' (lambdas[0]): timeout "
            "10 s is over the 5 s quota for viewer events",
        ),
        # Associations
        (
            "function-and-lambda-on-viewer-events",
            doc(FUNCTION, lam("a"), behavior('viewer_request = "fn"\nviewer_response = "a"')),
            "edgesim.toml: behaviors[0].viewer_response: lambda 'a' on viewer-response and "
            "function 'fn' on viewer-request (behaviors[0].viewer_request): CloudFront Functions "
            "and Lambda@Edge cannot be combined on the viewer events of one behaviour "
            "(Restrictions on all edge functions)",
        ),
        (
            "function-and-lambda-on-one-viewer-event",
            doc(
                FUNCTION,
                lam("a"),
                behavior(
                    'function_associations = [{ event_type = "viewer-request", function = "fn" }]\n'
                    'lambda_function_associations = [{ event_type = "viewer-request", '
                    'lambda = "a" }]'
                ),
            ),
            "edgesim.toml: behaviors[0].lambda_function_associations[0]: a second "
            "viewer-request lambda; a behaviour has at most one edge function per event type "
            "(the first is the function 'fn' at behaviors[0].function_associations[0]; "
            "Restrictions on all edge functions)",
        ),
        (
            "two-lambdas-on-one-event",
            doc(
                TWO,
                behavior(
                    'origin_request = "a"\n'
                    'lambda_function_associations = [{ event_type = "origin-request", '
                    'lambda = "b" }]'
                ),
            ),
            "edgesim.toml: behaviors[0].lambda_function_associations[0]: a second origin-request "
            "lambda; a behaviour has at most one edge function per event type (the first is the "
            "lambda 'a' at behaviors[0].origin_request",
        ),
        (
            "include-body-on-origin-response",
            doc(lam("a"), behavior('origin_response = { lambda = "a", include_body = true }')),
            "edgesim.toml: behaviors[0].origin_response.include_body: include_body is for "
            "request events only (viewer-request, origin-request), not origin-response",
        ),
        (
            "include-body-on-viewer-response",
            doc(
                lam("a"),
                behavior(
                    'lambda_function_associations = [{ event_type = "viewer-response", '
                    'lambda = "a", include_body = true }]'
                ),
            ),
            "edgesim.toml: behaviors[0].lambda_function_associations[0].include_body: "
            "include_body is for request events only",
        ),
        (
            "function-on-an-origin-event",
            doc(FUNCTION, lam("a"), behavior('origin_request = "fn"')),
            "edgesim.toml: behaviors[0].origin_request: 'fn' is a CloudFront Function; "
            "CloudFront Functions run on viewer events only (origin-request is Lambda@Edge only)",
        ),
        (
            "function-in-the-table-form",
            doc(FUNCTION, lam("a"), behavior('viewer_request = { lambda = "fn" }')),
            "edgesim.toml: behaviors[0].viewer_request.lambda: 'fn' is a CloudFront Function, "
            'not a lambda: write viewer_request = "fn"',
        ),
        (
            "unknown-in-viewer-shorthand",
            doc(FUNCTION, lam("auth"), behavior('viewer_request = "atuh"')),
            "edgesim.toml: behaviors[0].viewer_request: unknown function or lambda 'atuh' (did "
            "you mean 'auth'?)",
        ),
        (
            "unknown-in-origin-shorthand",
            doc(lam("signer"), behavior('origin_request = "singer"')),
            "edgesim.toml: behaviors[0].origin_request: unknown lambda 'singer' (did you mean "
            "'signer'?)",
        ),
        (
            "unknown-in-table-form",
            doc(lam("signer"), behavior('origin_response = { lambda = "signr" }')),
            "edgesim.toml: behaviors[0].origin_response.lambda: unknown lambda 'signr' (did you "
            "mean 'signer'?)",
        ),
        (
            "unknown-in-array",
            doc(
                lam("signer"),
                behavior(
                    'lambda_function_associations = [{ event_type = "origin-request", '
                    'lambda = "signre" }]'
                ),
            ),
            "edgesim.toml: behaviors[0].lambda_function_associations[0].lambda: unknown lambda "
            "'signre' (did you mean 'signer'?)",
        ),
        (
            "bad-event-type",
            doc(
                lam("a"),
                behavior(
                    'lambda_function_associations = [{ event_type = "origin-reqest", lambda = "a" }]'
                ),
            ),
            "edgesim.toml: behaviors[0].lambda_function_associations[0].event_type: "
            "'origin-reqest' is not one of viewer-request, origin-request, origin-response, "
            "viewer-response (did you mean 'origin-request'?)",
        ),
        (
            "array-entry-key",
            doc(
                lam("a"),
                behavior(
                    'lambda_function_associations = [{ event_type = "origin-request", '
                    'function = "a" }]'
                ),
            ),
            "edgesim.toml: behaviors[0].lambda_function_associations[0].function: unknown key",
        ),
        (
            "shorthand-of-the-wrong-type",
            doc(lam("a"), behavior("origin_request = 3")),
            "edgesim.toml: behaviors[0].origin_request: expected a lambda name or { lambda = "
            "NAME, include_body = BOOL }, got integer 3",
        ),
        (
            "table-form-needs-lambda",
            doc(lam("a"), behavior("origin_request = { include_body = true }")),
            "edgesim.toml: behaviors[0].origin_request.lambda: is required",
        ),
        # [lambda]
        (
            "settings-unknown-key",
            BASE + "[lambda]\nworkers = 2\n",
            "edgesim.toml: lambda.workers: unknown key (did you mean 'max_workers'?)",
        ),
        (
            "settings-max-workers",
            BASE + "[lambda]\nmax_workers = 0\n",
            "edgesim.toml: lambda.max_workers: 0 is out of range (allowed: 1 to 1024)",
        ),
        (
            "settings-max-queue",
            BASE + "[lambda]\nmax_queue = -1\n",
            "edgesim.toml: lambda.max_queue: -1 is out of range (allowed: 0 to 1000000)",
        ),
        (
            "settings-idle",
            BASE + "[lambda]\nidle_s = 0\n",
            "edgesim.toml: lambda.idle_s: 0 is out of range (allowed: more than 0, at most 86400)",
        ),
        (
            "settings-timeout-error",
            BASE + '[lambda]\ntimeout_error = "LambdaLimitExceded"\n',
            "edgesim.toml: lambda.timeout_error: 'LambdaLimitExceded' is not one of "
            "LambdaExecutionError, LambdaLimitExceeded (did you mean 'LambdaLimitExceeded'?)",
        ),
        (
            "settings-credentials",
            BASE + '[lambda]\ncredentials = { access_key_id = "A", token = "t" }\n',
            "edgesim.toml: lambda.credentials.token: unknown key (did you mean 'session_token'?)",
        ),
        (
            "settings-credentials-secret",
            BASE + '[lambda]\ncredentials = { access_key_id = "A" }\n',
            "edgesim.toml: lambda.credentials.secret_access_key: is required",
        ),
        (
            "env-aws-prefix",
            BASE + '[lambda.env]\nAWS_PROFILE = "dev"\n',
            "edgesim.toml: lambda.env.AWS_PROFILE: AWS_PROFILE is reserved: the Lambda runtime "
            "sets it",
        ),
        (
            "env-reserved",
            BASE + '[lambda.env]\nLAMBDA_TASK_ROOT = "/x"\n',
            "edgesim.toml: lambda.env.LAMBDA_TASK_ROOT: LAMBDA_TASK_ROOT is reserved",
        ),
        (
            "env-handler",
            BASE + '[lambda.env]\n_HANDLER = "x.y"\n',
            "edgesim.toml: lambda.env._HANDLER: _HANDLER is reserved",
        ),
        (
            "env-not-a-string",
            BASE + "[lambda.env]\nDEBUG = true\n",
            "edgesim.toml: lambda.env.DEBUG: expected a string, got boolean True",
        ),
        (
            "env-bad-name",
            BASE + '[lambda.env]\n"A-B" = "x"\n',
            "edgesim.toml: lambda.env.A-B: 'A-B' is not a variable name",
        ),
        (
            "node-not-found",
            BASE + '[lambda]\nnode = "edgesim-no-such-node"\n',
            "edgesim.toml: lambda.node: Node.js not found (edgesim-no-such-node on PATH)",
        ),
        (
            "node-path-not-found",
            BASE + '[lambda]\nnode = "tools/node"\n',
            "edgesim.toml: lambda.node: Node.js not found: ",
        ),
        (
            "node-path-not-found-names-it",
            BASE + '[lambda]\nnode = "tools/node"\n',
            "tools/node is not an executable file",
        ),
    ]
)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_refusals_name_the_key_path_and_the_rule(lproject: Path, text: str, expected: str) -> None:
    (lproject / "bad.zip").write_bytes(b"not a zip")
    assert_problem(lproject, text, expected)
