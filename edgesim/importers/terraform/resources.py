"""Resource and data-source instances, and the attributes AWS would compute.

A :class:`Resource` evaluates its arguments when read; attributes only AWS knows after apply
are made up where edgesim can (function and key value store ARNs, S3 domain names, managed
policy ids looked up by name, region, account) and Unknown otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from edgesim.distribution import managed
from edgesim.importers.bundle import ACCOUNT, function_arn
from edgesim.importers.terraform import lambdas
from edgesim.importers.terraform.config import Block, traversal_text
from edgesim.importers.terraform.nodes import HclNode
from edgesim.importers.terraform.values import EvalError, Unknown

if TYPE_CHECKING:
    from edgesim.importers.terraform.module import Module


class Resource:
    """A resource (or data source) instance; attributes are evaluated when read."""

    def __init__(
        self,
        module: Module,
        mode: str,
        rtype: str,
        name: str,
        block: Block,
        address: str,
        bindings: dict[str, Any],
    ) -> None:
        self.module = module
        self.mode = mode
        self.type = rtype
        self.name = name
        self.block = block
        self.address = address
        self.node = HclNode(module, block.body, bindings, address, block.src, block.line)
        self._cache: dict[str, Any] = {}
        self._active: set[str] = set()

    def tf_ref(self) -> str:
        return self.address

    def arg(self, name: str) -> Any:
        return self.node.raw(name)

    def region(self) -> Any:
        if "region" in self.block.body.attrs:
            return self.arg("region")
        provider = self.block.body.attrs.get("provider")
        ref = traversal_text(provider.expr) if provider is not None else "aws"
        return self.module.provider_region(ref)

    def tf_attr(self, name: str) -> Any:
        if name in self._cache:
            return self._cache[name]
        if name in self._active:
            raise EvalError(f"cycle: {self.address}.{name} refers to itself")
        self._active.add(name)
        try:
            value = self._attr(name)
        finally:
            self._active.discard(name)
        self._cache[name] = value
        return value

    def _attr(self, name: str) -> Any:
        computed = COMPUTED.get((self.mode, self.type), {}).get(name)
        if computed is not None:
            value = computed(self)
        elif name in self.block.body.attrs:
            value = self.arg(name)
        elif self.node.has_blocks(name):
            value = [node.value() for node in self.node.expand(name)]
        else:
            where = "read by edgesim" if self.mode == "data" else "computed by AWS when applied"
            value = Unknown(f"{self.address}.{name}", where)
        return value

    def mark(self, note: str) -> None:
        self.module.project.notes.append(note)


class _Res(Protocol):
    """What computed attributes need: an argument, the region, the address."""

    address: str

    def arg(self, name: str) -> Any: ...

    def region(self) -> Any: ...

    def mark(self, note: str) -> None: ...


def _name_or(res: _Res, attr: str = "name") -> Any:
    value = res.arg(attr)
    return value if value is not None else res.address.rsplit(".", 1)[-1]


def _bucket_name(res: _Res) -> Any:
    name = res.arg("bucket")
    if name is None:
        prefix = res.arg("bucket_prefix")
        name = f"{prefix or 'terraform-'}{res.address.rsplit('.', 1)[-1].split('[')[0]}"
        res.mark(
            f"{res.address}: the bucket name is chosen when applied; edgesim calls it {name!r}"
        )
    return name


def _bucket_domain(res: _Res, regional: bool) -> Any:
    bucket = _bucket_name(res)
    if isinstance(bucket, Unknown):
        return bucket
    region = res.region() if regional else None
    if isinstance(region, str) and region:
        return f"{bucket}.s3.{region}.amazonaws.com"
    return f"{bucket}.s3.amazonaws.com"


def _website_endpoint(res: _Res) -> Any:
    bucket = res.arg("bucket")
    region = res.region()
    if isinstance(bucket, Unknown) or not isinstance(region, str):
        return Unknown(f"{res.address}.website_endpoint", "the region is not in the configuration")
    return f"{bucket}.s3-website-{region}.amazonaws.com"


def _managed_id(kind: str) -> Callable[[_Res], Any]:
    find = {
        "cache": managed.find_cache_policy,
        "origin_request": managed.find_origin_request_policy,
        "response_headers": managed.find_response_headers_policy,
    }[kind]

    def policy_id(res: _Res) -> Any:
        given = res.arg("id")
        name = res.arg("name")
        key = given if given is not None else name
        if isinstance(key, Unknown) or key is None:
            return key
        policy = find(key)
        if policy is not None and policy.managed_id:
            return policy.managed_id
        res.mark(
            f"{res.address}: {key!r} is not a managed {kind.replace('_', ' ')} policy; it is "
            f"taken to be one in the configuration or given with --policy {key}=policy.json"
        )
        return key

    return policy_id


_S3 = {
    "id": _bucket_name,
    "bucket": _bucket_name,
    "arn": lambda r: f"arn:aws:s3:::{_bucket_name(r)}",
    "bucket_domain_name": lambda r: _bucket_domain(r, regional=False),
    "bucket_regional_domain_name": lambda r: _bucket_domain(r, regional=True),
    "region": lambda r: r.region(),
}


COMPUTED: dict[tuple[str, str], dict[str, Callable[[_Res], Any]]] = {
    ("resource", "aws_cloudfront_function"): {
        "arn": lambda r: _map_known(_name_or(r), function_arn),
        "id": _name_or,
        "name": _name_or,
    },
    ("data", "aws_cloudfront_function"): {
        "arn": lambda r: _map_known(_name_or(r), function_arn),
        "id": _name_or,
    },
    ("resource", "aws_cloudfront_key_value_store"): {
        "arn": lambda r: _map_known(_name_or(r), kvs_arn),
        "id": _name_or,
        "name": _name_or,
    },
    ("resource", "aws_cloudfront_cache_policy"): {"id": _name_or},
    ("resource", "aws_cloudfront_origin_request_policy"): {"id": _name_or},
    ("resource", "aws_cloudfront_response_headers_policy"): {"id": _name_or},
    ("resource", "aws_cloudfront_origin_access_control"): {"id": _name_or},
    # Signed URLs: the local key id and key group id are the resource's name (CloudFront
    # assigns the real ids when applied; serve prints the local ones at start-up).
    ("resource", "aws_cloudfront_public_key"): {"id": lambda r: r.address.rsplit(".", 1)[-1]},
    ("resource", "aws_cloudfront_key_group"): {"id": lambda r: r.address.rsplit(".", 1)[-1]},
    ("resource", "aws_cloudfront_origin_access_identity"): {
        "id": lambda r: f"oai-{r.address.rsplit('.', 1)[-1]}",
        "cloudfront_access_identity_path": lambda r: (
            f"origin-access-identity/cloudfront/oai-{r.address.rsplit('.', 1)[-1]}"
        ),
    },
    ("data", "aws_cloudfront_cache_policy"): {"id": _managed_id("cache")},
    ("data", "aws_cloudfront_origin_request_policy"): {"id": _managed_id("origin_request")},
    ("data", "aws_cloudfront_response_headers_policy"): {"id": _managed_id("response_headers")},
    ("resource", "aws_s3_bucket"): _S3,
    ("data", "aws_s3_bucket"): _S3,
    ("resource", "aws_s3_bucket_website_configuration"): {
        "website_endpoint": _website_endpoint,
    },
    ("resource", "aws_lambda_function"): lambdas.COMPUTED,  # Lambda@Edge: versioned ARNs
    ("data", "aws_lambda_function"): lambdas.DATA_COMPUTED,
    ("data", "aws_region"): {"name": lambda r: r.region(), "id": lambda r: r.region()},
    ("data", "aws_caller_identity"): {"account_id": lambda r: ACCOUNT, "id": lambda r: ACCOUNT},
    ("data", "aws_partition"): {"partition": lambda r: "aws", "id": lambda r: "aws"},
}


def _map_known(value: Any, fn: Callable[[str], str]) -> Any:
    return fn(value) if isinstance(value, str) else value


def kvs_arn(name: str) -> str:
    """The synthetic ARN a key value store gets (the real one carries an id AWS assigns)."""
    return f"arn:aws:cloudfront::{ACCOUNT}:key-value-store/{name}"
