"""Lambda@Edge in a template: the values of Lambda functions and versions (their deployed
names and ARNs, made up in AWS's shape), and the code and settings of the function a behaviour's
``LambdaFunctionAssociations`` names, added to the bundle.

- ``AWS::Lambda::Function``: ``Ref`` is its ``FunctionName`` (else a generated
  ``<stack>-<logical id>-<token>``), ``Arn`` the unqualified ARN. Code: ``Code.ZipFile``
  (inline, written as ``index.js`` as CloudFormation does), or ``Code.S3Bucket``/``S3Key``: a
  CDK asset (the resolver), else the key as a path beside the template, else the user gives it
  with ``--lambda``.
- ``AWS::Lambda::Version``: ``Ref`` is ``<function ARN>:1``; that ARN is recorded
  (``Stack.lambda_arns``) against the function its ``FunctionName`` refers to.
- ``AWS::Serverless::Function`` (SAM): ``CodeUri`` (a local directory or ``.zip``, or S3),
  ``InlineCode``, and the ``Globals.Function`` defaults; with ``AutoPublishAlias``,
  ``!Ref Fn.Version`` is the version ARN and ``!Ref Fn.Alias`` the alias's (which CloudFront
  refuses, as the converter says).
- ``Custom::CrossRegionStringParameterReader`` (CDK's ``cloudfront.experimental.EdgeFunction``
  in a stack outside us-east-1): its value is the ``AWS::SSM::Parameter`` the edge stack writes,
  when the CDK loader registered that stack (``Stack.ssm_parameters``).

The functions taking ``stack`` first are called from ``placeholders`` and ``distribution``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgesim.importers.bundle import ACCOUNT, ImportBundle, LambdaSource
from edgesim.importers.cloudformation.parameters import REGION

if TYPE_CHECKING:
    from edgesim.importers.cloudformation.stack import Stack

FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")
CROSS_REGION_READER = "Custom::CrossRegionStringParameterReader"
_EDGE_PARAMETER = "/cdk/EdgeFunctionArn/"
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def function_name(stack: Stack, logical_id: str) -> str:
    given = stack.string_property(logical_id, "FunctionName")
    return given or f"{stack.name}-{logical_id}-{stack.physical_id(logical_id, 10)}"


def function_arn(stack: Stack, logical_id: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name(stack, logical_id)}"


def version_arn(stack: Stack, logical_id: str) -> str:
    """``Ref`` of an ``AWS::Lambda::Version`` (or SAM's ``Fn.Version``): ``<function>:1``."""
    base, dot, member = logical_id.partition(".")
    if dot:  # SAM: Fn.Version / Fn.Alias of an AWS::Serverless::Function
        arn = function_arn(stack, base)
        if member == "Alias":
            return f"{arn}:{sam_setting(stack, base, 'AutoPublishAlias') or 'live'}"
        stack.lambda_arns[f"{arn}:1"] = (stack, base)
        return f"{arn}:1"
    function = _function_of(stack, logical_id)
    if function is not None:
        arn = f"{function_arn(stack, function)}:1"
        stack.lambda_arns[arn] = (stack, function)
        return arn
    name = stack.string_property(logical_id, "FunctionName") or logical_id
    if not name.startswith("arn:"):
        name = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    return f"{name}:1"


def _function_of(stack: Stack, version_id: str) -> str | None:
    """The function of this stack a version's ``FunctionName`` refers to (``!Ref Fn``,
    ``!GetAtt Fn.Arn``, or the same name or ARN written out)."""
    properties = stack.resources[version_id].get("Properties")
    raw = properties.get("FunctionName") if isinstance(properties, dict) else None
    target: Any = None
    if isinstance(raw, dict) and "Ref" in raw:
        target = raw["Ref"]
    elif isinstance(raw, dict) and "Fn::GetAtt" in raw:
        argument = raw["Fn::GetAtt"]
        target = argument.split(".")[0] if isinstance(argument, str) else argument[0]
    if isinstance(target, str) and stack.resource_type(target) in FUNCTION_TYPES:
        return target
    written = stack.string_property(version_id, "FunctionName")
    for logical_id, resource in stack.resources.items():
        if (
            isinstance(resource, dict)
            and resource.get("Type") in FUNCTION_TYPES
            and written in (function_name(stack, logical_id), function_arn(stack, logical_id))
        ):
            return logical_id
    return None


def sam_version_type(stack: Stack, name: str) -> str | None:
    """The type SAM gives ``Fn.Version`` / ``Fn.Alias`` of a function with AutoPublishAlias."""
    base, dot, member = name.partition(".")
    if not dot or stack.resource_type(base) != "AWS::Serverless::Function":
        return None
    if sam_setting(stack, base, "AutoPublishAlias") is None:
        return None
    return {"Version": "AWS::Lambda::Version", "Alias": "AWS::Lambda::Alias"}.get(member)


def sam_setting(stack: Stack, logical_id: str, name: str) -> Any:
    """A SAM function's property, else its ``Globals.Function`` default."""
    value = stack.prop(logical_id, name)
    if value is not None:
        return value
    globals_ = stack.template.get("Globals")
    function = globals_.get("Function") if isinstance(globals_, dict) else None
    if isinstance(function, dict) and name in function:
        return stack.value(function[name], f"Globals.Function.{name}")
    return None


def cross_region_value(stack: Stack, logical_id: str, attribute: str) -> Any:
    """The value a ``Custom::CrossRegionStringParameterReader`` reads, when the stack that
    writes the parameter is known; else, for an EdgeFunction's, a version ARN named after the
    parameter (so the converter's message says which function needs ``--lambda``). Every
    ``attribute`` is the parameter's value (the reader answers it under any name)."""
    parameter = stack.string_property(logical_id, "ParameterName") or ""
    found = stack.ssm_parameters.get(parameter)
    if found is not None:
        owner, parameter_id = found
        return owner.prop(parameter_id, "Value")
    if parameter.startswith(_EDGE_PARAMETER):
        name = re.sub(r"[^A-Za-z0-9_-]", "-", parameter.rsplit("/", 1)[-1])[:64]
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}:1"
    return None


def add_lambda(stack: Stack, bundle: ImportBundle, arn: Any, at: str) -> None:
    """Add the function a ``LambdaFunctionARN`` resolves to (the converter reports an ARN
    nothing resolves, and an unqualified or alias ARN)."""
    if not isinstance(arn, str):
        raise stack.fail(at, None, "must be a Lambda function version ARN")
    found = stack.lambda_arns.get(arn) or _written_version(stack, arn)
    if found is None:
        return
    owner, logical_id = found
    where = owner.where(f"Resources.{logical_id}")
    name = _name(owner, logical_id)
    if name in bundle.lambdas and bundle.lambdas[name].where != where:
        name = logical_id  # another function has that name: the logical id is unique
    bundle.lambda_arns[arn] = name
    if name in bundle.lambdas:
        return
    source = _source(owner, logical_id, name)
    bundle.lambdas[name] = source
    bundle.where[f"lambdas.{name}"] = source.where
    if source.file is not None and source.file.is_file():
        bundle.sources.append(source.file)
    if owner is not stack:
        bundle.sources.append(owner.path)


def _written_version(stack: Stack, arn: str) -> tuple[Stack, str] | None:
    """A version ARN written out (``!Sub "${Fn.Arn}:3"``): the function of this stack whose ARN
    it qualifies with a version number."""
    base, _, qualifier = arn.rpartition(":")
    if not qualifier.isdigit():
        return None
    for logical_id, resource in stack.resources.items():
        if (
            isinstance(resource, dict)
            and resource.get("Type") in FUNCTION_TYPES
            and stack.exists(logical_id)
            and function_arn(stack, logical_id) == base
        ):
            return stack, logical_id
    return None


def _name(stack: Stack, logical_id: str) -> str:
    """The ``[[lambdas]]`` name: ``FunctionName``, else the CDK construct's id (``Sign`` for
    ``…/Sign/Resource``), else the logical id."""
    given = stack.string_property(logical_id, "FunctionName")
    if given and _NAME.fullmatch(given):
        return given
    construct = stack.construct_paths.get(logical_id, "").rsplit("/", 1)[-1]
    return construct if _NAME.fullmatch(construct) else logical_id


def _source(stack: Stack, logical_id: str, name: str) -> LambdaSource:
    sam = stack.resource_type(logical_id) == "AWS::Serverless::Function"

    def setting(key: str) -> Any:
        return sam_setting(stack, logical_id, key) if sam else stack.prop(logical_id, key)

    base = f"Resources.{logical_id}.Properties"
    source = LambdaSource(
        name=name,
        runtime=_text(stack, setting("Runtime"), f"{base}.Runtime"),
        handler=_text(stack, setting("Handler"), f"{base}.Handler"),
        timeout_s=_number(stack, setting("Timeout"), f"{base}.Timeout"),
        memory_mb=_integer(stack, setting("MemorySize"), f"{base}.MemorySize"),
        where=stack.where(f"Resources.{logical_id}"),
    )
    if sam:
        _sam_code(stack, logical_id, source, setting)
    else:
        _code(stack, logical_id, source)
    return source


def _code(stack: Stack, logical_id: str, source: LambdaSource) -> None:
    at = f"Resources.{logical_id}.Properties.Code"
    code = stack.prop(logical_id, "Code")
    if not isinstance(code, dict):
        raise stack.fail(at, None, "is required (ZipFile, S3Bucket and S3Key, or ImageUri)")
    if isinstance(code.get("ZipFile"), str):
        source.code = code["ZipFile"]
    elif code.get("S3Bucket") and code.get("S3Key"):
        _s3_object(stack, source, str(code["S3Bucket"]), str(code["S3Key"]), at)
    elif code.get("ImageUri"):
        source.missing = f"a container image ({code['ImageUri']}); Lambda@Edge needs a .zip"
    else:
        raise stack.fail(at, None, "needs ZipFile, or S3Bucket and S3Key")


def _sam_code(stack: Stack, logical_id: str, source: LambdaSource, setting: Any) -> None:
    at = f"Resources.{logical_id}.Properties.CodeUri"
    inline = setting("InlineCode")
    if isinstance(inline, str):
        source.code = inline
        return
    uri = setting("CodeUri")
    if isinstance(uri, dict) and uri.get("Bucket") and uri.get("Key"):
        _s3_object(stack, source, str(uri["Bucket"]), str(uri["Key"]), at)
        return
    if not isinstance(uri, str) or not uri:
        source.file = stack.path.parent  # SAM's default: the template's directory
        return
    match = re.fullmatch(r"s3://([^/]+)/(.+)", uri)
    if match is not None:
        _s3_object(stack, source, match.group(1), match.group(2), at)
        return
    path = stack.path.parent / uri
    if not path.exists():
        raise stack.fail(at, None, f"{uri}: {path} does not exist (a directory or a .zip)")
    source.file = path


def _s3_object(stack: Stack, source: LambdaSource, bucket: str, key: str, at: str) -> None:
    found = stack.assets(bucket, key) if stack.assets is not None else None
    if found is None and stack.assets is None and (stack.path.parent / key).exists():
        found = stack.path.parent / key
    if found is None:
        source.missing = f"s3://{bucket}/{key}"
        return
    if not found.exists():
        raise stack.fail(at, None, f"s3://{bucket}/{key}: the asset {found} is missing")
    source.file = Path(found)


def _text(stack: Stack, value: Any, at: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise stack.fail(at, value, "must be a string")


def _number(stack: Stack, value: Any, at: str) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise stack.fail(at, value, "must be a number of seconds") from None
    if number <= 0:
        raise stack.fail(at, value, "must be positive")
    return number


def _integer(stack: Stack, value: Any, at: str) -> int | None:
    if value is None:
        return None
    try:
        return int(str(value))
    except ValueError:
        raise stack.fail(at, value, "must be a whole number of MB") from None
