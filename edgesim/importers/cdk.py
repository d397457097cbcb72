"""A CDK cloud assembly (``cdk.out``) → one ``ImportBundle`` per distribution of one stack.

The assembly's ``manifest.json`` lists the stacks (artifacts of type ``aws:cloudformation:stack``,
also inside the nested assemblies of CDK stages); each stack's template is read as CloudFormation
(``edgesim.importers.cloudformation``). The asset manifests (``*.assets.json``) map the S3 object
keys the template names (``<hash>.json``, ``<hash>.zip``) to the files and directories staged in
the assembly, so a KeyValueStore's ``ImportSource.fromAsset`` resolves to its JSON file.

``tree.json`` (or the resources' ``aws:cdk:path`` metadata) gives each resource's construct path.
Each bundle's ``origin_hints`` holds:

- ``<origin id>`` → the construct path behind the origin: the bucket of an S3 origin
  (``Stack/Bucket``), the resource an origin's domain comes from, else the distribution's own
  origin construct (``Stack/Site/Origin2``); an overlay can map origins by these paths.
- ``content:<origin id>`` → the local directory (or zip file, for ``extract: false``) that a
  ``BucketDeployment`` copies into that origin's bucket; several are joined with ``os.pathsep``
  in deployment order (a later one wins where they overlap).
- ``content-prefix:<origin id>`` → the key prefix those files go under
  (``destinationKeyPrefix``), when one is set; several are joined with ``os.pathsep`` too, one
  per ``content:`` entry (empty for none).
- ``distribution`` → the distribution's construct path (``Stack/Site``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgesim.errors import InputError
from edgesim.importers.bundle import ImportBundle
from edgesim.importers.cloudformation import AssetResolver, Stack, bundles, open_stack

_DEPLOYMENT = "Custom::CDKBucketDeployment"
_EDGE_STACK = "edge-lambda-stack-"  # cloudfront.experimental.EdgeFunction's us-east-1 stacks


@dataclass(frozen=True)
class StackArtifact:
    """One stack of the assembly."""

    artifact_id: str
    display_name: str  # the construct path (``Stage/Stack`` inside a stage)
    stack_name: str  # the CloudFormation stack name
    template: Path
    assembly: Path  # the (nested) assembly directory holding it
    metadata_file: Path | None = None  # additionalMetadataFile: construct path → entries


def _dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else empty (a malformed manifest reads as empty)."""
    return value if isinstance(value, dict) else {}


def _read_json(path: Path, label: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{label}: missing") from None
    except OSError as error:
        raise InputError(f"{label}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise InputError(f"{label}: not UTF-8 (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise InputError(
            f"{label}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}"
        ) from None


def _artifacts(assembly: Path) -> dict[str, Any]:
    manifest_path = assembly / "manifest.json"
    if not manifest_path.is_file():
        raise InputError(f"{assembly}: not a CDK cloud assembly (no manifest.json)")
    manifest = _read_json(manifest_path, str(manifest_path))
    return _dict(_dict(manifest).get("artifacts"))


def list_stacks(assembly: Path) -> list[StackArtifact]:
    """The stacks of an assembly and of the nested assemblies of its stages, in manifest order."""
    found: list[StackArtifact] = []
    for artifact_id, artifact in _artifacts(assembly).items():
        if not isinstance(artifact, dict):
            continue
        properties = _dict(artifact.get("properties"))
        if artifact.get("type") == "aws:cloudformation:stack":
            template = properties.get("templateFile")
            if not isinstance(template, str):
                raise InputError(
                    f"{assembly / 'manifest.json'}: stack {artifact_id} has no templateFile"
                )
            found.append(
                StackArtifact(
                    artifact_id=artifact_id,
                    display_name=str(artifact.get("displayName") or artifact_id),
                    stack_name=str(properties.get("stackName") or artifact_id),
                    template=assembly / template,
                    assembly=assembly,
                    metadata_file=(
                        assembly / artifact["additionalMetadataFile"]
                        if isinstance(artifact.get("additionalMetadataFile"), str)
                        else None
                    ),
                )
            )
        elif artifact.get("type") == "cdk:cloud-assembly":
            directory = properties.get("directoryName")
            if isinstance(directory, str) and (assembly / directory / "manifest.json").is_file():
                found.extend(list_stacks(assembly / directory))
    return found


def pick_stack(assembly: Path, name: str | None) -> StackArtifact:
    """The stack named by its construct path, artifact id or stack name; the only one by default."""
    stacks = list_stacks(assembly)
    if name is None:
        # The us-east-1 stacks CDK makes for EdgeFunctions hold no distribution: not a choice.
        own = [stack for stack in stacks if not stack.artifact_id.startswith(_EDGE_STACK)]
        if len(own) == 1:
            return own[0]
    if name is not None:
        for stack in stacks:
            if name in (stack.display_name, stack.artifact_id, stack.stack_name):
                return stack
        choices = ", ".join(stack.display_name for stack in stacks) or "none"
        raise InputError(f"{assembly}: no stack {name} (stacks: {choices})")
    if len(stacks) == 1:
        return stacks[0]
    if not stacks:
        raise InputError(f"{assembly}: the cloud assembly has no stack")
    choices = ", ".join(stack.display_name for stack in stacks)
    raise InputError(f"{assembly}: {len(stacks)} stacks ({choices}): choose one with --stack")


def _asset_files(assembly: Path) -> dict[str, Path]:
    """S3 object key → the staged file or directory, from every asset manifest of the assembly."""
    keys: dict[str, Path] = {}
    for artifact in _artifacts(assembly).values():
        if not isinstance(artifact, dict) or artifact.get("type") != "cdk:asset-manifest":
            continue
        file = _dict(artifact.get("properties")).get("file")
        if not isinstance(file, str):
            continue
        manifest = _read_json(assembly / file, str(assembly / file))
        for asset in _dict(_dict(manifest).get("files")).values():
            path = _dict(_dict(asset).get("source")).get("path")
            if not isinstance(path, str):
                continue  # an asset built by a command (executable): nothing staged
            for destination in _dict(_dict(asset).get("destinations")).values():
                key = _dict(destination).get("objectKey")
                if isinstance(key, str):
                    keys[key] = assembly / path
    return keys


def _construct_paths(
    assembly: Path, stack: StackArtifact, template: dict[str, Any]
) -> dict[str, str]:
    """Logical id → construct path (``Stack/Bucket``, without the trailing ``/Resource``).

    From the stack's metadata (``aws:cdk:logicalId`` entries in the manifest or its metadata
    file), the resources' ``aws:cdk:path`` metadata, and ``tree.json`` (newer CDK versions
    name logical ids there), whichever the assembly has."""
    paths: dict[str, str] = {}
    entries = dict(_dict(_dict(_artifacts(assembly).get(stack.artifact_id)).get("metadata")))
    if stack.metadata_file is not None and stack.metadata_file.is_file():
        extra = _read_json(stack.metadata_file, str(stack.metadata_file))
        entries.update(extra if isinstance(extra, dict) else {})
    for construct, items in entries.items():
        for item in items if isinstance(items, list) else []:
            if (
                isinstance(item, dict)
                and item.get("type") == "aws:cdk:logicalId"
                and isinstance(item.get("data"), str)
            ):
                paths[item["data"]] = _user_path(construct)
    for logical_id, resource in _dict(template.get("Resources")).items():
        path = _dict(_dict(resource).get("Metadata")).get("aws:cdk:path")
        if isinstance(path, str):
            paths[logical_id] = _user_path(path)
    tree_file = next(
        (
            _dict(artifact.get("properties")).get("file")
            for artifact in _artifacts(assembly).values()
            if isinstance(artifact, dict) and artifact.get("type") == "cdk:tree"
        ),
        None,
    )
    if isinstance(tree_file, str) and (assembly / tree_file).is_file():
        tree = _read_json(assembly / tree_file, str(assembly / tree_file))
        root = _find_node(_dict(_dict(tree).get("tree")), stack.display_name)
        if root is not None:
            _walk(root, paths)
    return paths


def _find_node(node: dict[str, Any], path: str) -> dict[str, Any] | None:
    if node.get("path") == path:
        return node
    for child in map(_dict, _dict(node.get("children")).values()):
        child_path = str(child.get("path", ""))
        if path == child_path or path.startswith(child_path + "/") or not child_path:
            found = _find_node(child, path)
            if found is not None:
                return found
    return None


def _walk(node: dict[str, Any], paths: dict[str, str]) -> None:
    attributes = _dict(node.get("attributes"))
    logical_id = attributes.get("aws:cdk:cloudformation:logicalId")
    if isinstance(logical_id, str) and isinstance(node.get("path"), str):
        paths[logical_id] = _user_path(node["path"])
    for child in _dict(node.get("children")).values():
        _walk(_dict(child), paths)  # nested stacks too: CDK's logical ids do not collide


def _user_path(path: str) -> str:
    path = path.lstrip("/")
    for suffix in ("/Resource", "/Default"):
        if path.endswith(suffix):
            return path.removesuffix(suffix)
    return path


def load_cdk(
    assembly_dir: Path,
    *,
    stack: str | None = None,
    parameters: Mapping[str, str] = {},
) -> list[ImportBundle]:
    """Every distribution of one stack of a cloud assembly, in template order; each bundle's
    ``name`` is its logical id (``NestedStackLogicalId/LogicalId`` inside a ``NestedStack``).

    ``stack`` is required when the assembly has several stacks (construct path such as
    ``Prod/Site``, artifact id, or CloudFormation stack name); ``parameters`` override the
    template's parameter defaults.
    """
    chosen = pick_stack(assembly_dir, stack)
    keys = _asset_files(chosen.assembly)

    def resolve(bucket: str, key: str) -> Path | None:
        return keys.get(key)

    cdk_stack = open_stack(
        chosen.template, parameters=parameters, assets=resolve, stack_name=chosen.stack_name
    )
    cdk_stack.construct_paths = _construct_paths(chosen.assembly, chosen, cdk_stack.template)
    _edge_function_stacks(assembly_dir, chosen, cdk_stack, resolve)
    contents: dict[str, list[tuple[Path, str]]] = {}
    stacks = _nested(cdk_stack)
    for each in stacks:  # first: their notes concern every distribution
        for bucket, sources in _deployments(each, keys).items():
            contents.setdefault(bucket, []).extend(sources)
    found = bundles(cdk_stack)
    manifest_files = [chosen.assembly / "manifest.json"]
    for artifact in _artifacts(chosen.assembly).values():
        file = _dict(artifact.get("properties")).get("file") if isinstance(artifact, dict) else None
        if isinstance(file, str) and artifact.get("type") in ("cdk:asset-manifest", "cdk:tree"):
            manifest_files.append(chosen.assembly / file)
    for key, bundle in found.items():
        owner, logical_id = _owner(cdk_stack, key)
        bundle.sources.extend(path for path in manifest_files if path.is_file())
        distribution_path = owner.construct_paths.get(logical_id)
        if distribution_path:
            bundle.origin_hints["distribution"] = distribution_path
        _origin_hints(owner, logical_id, bundle, contents, stacks)
    return list(found.values())


def _edge_function_stacks(
    assembly_dir: Path, chosen: StackArtifact, stack: Stack, resolve: AssetResolver
) -> None:
    """Open the other stacks that write SSM parameters (the us-east-1 stacks of
    ``cloudfront.experimental.EdgeFunction``, whose version ARN the chosen stack reads through
    a ``Custom::CrossRegionStringParameterReader``) and register those parameters and the
    stacks' Lambda versions with ``stack`` (``cloudformation.lambdas``)."""
    for other in list_stacks(assembly_dir):
        if other.artifact_id == chosen.artifact_id or not other.template.is_file():
            continue
        try:
            _register_parameters(other, stack, resolve)
        except InputError as exc:  # another stack's problem: only its EdgeFunctions are lost
            stack.notes.append(
                f"{other.template}: not read ({exc}): a Lambda@Edge function it holds needs "
                "--lambda"
            )


def _register_parameters(other: StackArtifact, stack: Stack, resolve: AssetResolver) -> None:
    template = _dict(_read_json(other.template, str(other.template)))
    parameters = [
        logical_id
        for logical_id, resource in _dict(template.get("Resources")).items()
        if isinstance(resource, dict) and resource.get("Type") == "AWS::SSM::Parameter"
    ]
    if not parameters:
        return
    edge = open_stack(other.template, assets=resolve, stack_name=other.stack_name)
    edge.construct_paths = _construct_paths(other.assembly, other, edge.template)
    edge.lambda_arns = stack.lambda_arns
    edge.ssm_parameters = stack.ssm_parameters
    for logical_id in parameters:
        name = edge.string_property(logical_id, "Name")
        if name:
            stack.ssm_parameters[name] = (edge, logical_id)


def _owner(stack: Stack, key: str) -> tuple[Stack, str]:
    """The (nested) stack a bundle key (``Nested/Distribution``) names, and the logical id."""
    *nesting, logical_id = key.split("/")
    for name in nesting:
        stack = stack.child(name)
    return stack, logical_id


def _nested(stack: Stack) -> list[Stack]:
    """The stack and every nested stack it creates, parents first."""
    found = [stack]
    for logical_id, resource in stack.resources.items():
        if (
            isinstance(resource, dict)
            and resource.get("Type") == "AWS::CloudFormation::Stack"
            and stack.exists(logical_id)
        ):
            found.extend(_nested(stack.child(logical_id)))
    return found


def _deployments(stack: Stack, keys: Mapping[str, Path]) -> dict[str, list[tuple[Path, str]]]:
    """Bucket name → (staged directory or zip, key prefix) of each BucketDeployment source."""
    contents: dict[str, list[tuple[Path, str]]] = {}
    for logical_id, resource in stack.resources.items():
        if not isinstance(resource, dict) or resource.get("Type") != _DEPLOYMENT:
            continue
        if not stack.exists(logical_id):
            continue
        bucket = stack.string_property(logical_id, "DestinationBucketName")
        objects = stack.prop(logical_id, "SourceObjectKeys") or []
        prefix = stack.string_property(logical_id, "DestinationBucketKeyPrefix") or ""
        if not bucket or not isinstance(objects, list):
            continue
        for key in objects:
            path = keys.get(str(key))
            if path is None:
                stack.notes.append(
                    f"{stack.where(f'Resources.{logical_id}')}: a BucketDeployment source "
                    f"({key}) is not an asset of the assembly: map that bucket's origin yourself"
                )
                continue
            if not path.exists():
                raise stack.fail(
                    f"Resources.{logical_id}.Properties.SourceObjectKeys",
                    None,
                    f"{key}: the asset {path} is missing from the assembly",
                )
            contents.setdefault(bucket, []).append((path, prefix.strip("/")))
    return contents


def _origin_hints(
    stack: Stack,
    logical_id: str,
    bundle: ImportBundle,
    contents: Mapping[str, list[tuple[Path, str]]],
    stacks: list[Stack],
) -> None:
    buckets = {  # bucket name → its construct path, in any of the stacks
        each.bucket_name(bucket_id): each.construct_paths.get(bucket_id)
        for each in stacks
        for bucket_id, resource in each.resources.items()
        if isinstance(resource, dict)
        and resource.get("Type") == "AWS::S3::Bucket"
        and each.exists(bucket_id)
    }
    raw = _dict(_dict(stack.resources[logical_id].get("Properties")).get("DistributionConfig"))
    raw_origins = raw.get("Origins")
    raw_origins = raw_origins if isinstance(raw_origins, list) else []
    origins = bundle.distribution_config.get("Origins") or []
    origins = origins.get("Items", []) if isinstance(origins, dict) else origins
    distribution_path = stack.construct_paths.get(logical_id, "")
    for index, origin in enumerate(origins):
        if not isinstance(origin, dict) or not isinstance(origin.get("Id"), str):
            continue
        origin_id = origin["Id"]
        domain = str(origin.get("DomainName", ""))
        bucket = _bucket_of(domain)
        path = None
        if bucket in buckets:
            path = buckets[bucket]
        if path is None and index < len(raw_origins):
            referenced = _referenced(_dict(raw_origins[index]).get("DomainName"), stack)
            path = stack.construct_paths.get(referenced) if referenced else None
        if path is None and distribution_path:
            path = f"{distribution_path}/Origin{index + 1}"
        if path:
            bundle.origin_hints[origin_id] = path
        if bucket is not None and bucket in contents:
            sources = contents[bucket]
            bundle.origin_hints[f"content:{origin_id}"] = os.pathsep.join(
                str(path.absolute()) for path, _ in sources
            )
            if any(prefix for _, prefix in sources):
                bundle.origin_hints[f"content-prefix:{origin_id}"] = os.pathsep.join(
                    prefix for _, prefix in sources
                )


def _bucket_of(domain: str) -> str | None:
    """The bucket of an S3 REST or website endpoint domain."""
    for marker in (".s3.", ".s3-website-", ".s3-website."):
        if marker in domain:
            return domain.split(marker, 1)[0]
    return None


def _referenced(node: Any, stack: Stack) -> str | None:
    """The first resource a raw expression refers to (Ref, GetAtt, or Sub ${X})."""
    if isinstance(node, dict):
        if "Ref" in node and node["Ref"] in stack.resources:
            return str(node["Ref"])
        attribute = node.get("Fn::GetAtt")
        if isinstance(attribute, list) and attribute and attribute[0] in stack.resources:
            return str(attribute[0])
        for value in node.values():
            found = _referenced(value, stack)
            if found:
                return found
    if isinstance(node, list):
        for value in node:
            found = _referenced(value, stack)
            if found:
                return found
    if isinstance(node, str) and "${" in node:
        for name in stack.resources:
            if "${" + name in node:
                return name
    return None
