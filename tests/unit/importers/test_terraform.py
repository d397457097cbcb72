"""Terraform front-end: HCL evaluation, the mapping to DistributionConfig, show -json, errors."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from edgesim.errors import InputError
from edgesim.importers.bundle import function_arn
from edgesim.importers.terraform import TerraformBundle, _Project, kvs_arn, load_terraform

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "import" / "terraform"
OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"


def dist(domain: str = '"www.example.com"', extra: str = "", behavior: str = "") -> str:
    """A minimal distribution; the origin's domain_name is on line 5."""
    return textwrap.dedent(
        """\
        resource "aws_cloudfront_distribution" "site" {
          enabled = true
          origin {
            origin_id   = "o"
            domain_name = %s
          }
          default_cache_behavior {
            target_origin_id       = "o"
            viewer_protocol_policy = "allow-all"
            allowed_methods        = ["GET", "HEAD"]
            cached_methods         = ["GET", "HEAD"]
            cache_policy_id        = "%s"
        %s
          }
          restrictions {
            geo_restriction {
              restriction_type = "none"
            }
          }
          viewer_certificate {
            cloudfront_default_certificate = true
          }
        %s
        }
        """
    ) % (domain, OPTIMIZED, textwrap.indent(behavior, "    "), textwrap.indent(extra, "  "))


@pytest.fixture
def tf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Write files into a fresh directory (the cwd, so messages name files relatively)."""
    monkeypatch.chdir(tmp_path)

    def write(files: dict[str, str]) -> Path:
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        return Path(".")

    return write


def one(path: Path, **kw: Any) -> TerraformBundle:
    bundles = load_terraform(path, **kw)
    assert len(bundles) == 1
    bundle = bundles[0]
    assert isinstance(bundle, TerraformBundle)
    return bundle


def local_value(tf: Any, locals_body: str, name: str = "x", extra: str = "") -> Any:
    """Evaluate ``local.<name>`` of a root module holding ``locals_body``."""
    root = tf({"main.tf": f"locals {{\n{textwrap.dedent(locals_body)}\n}}\n{extra}"})
    project = _Project(root)
    return project.root_module({}, ()).local(name)


# ---------------------------------------------------------------------------------------------
# The fixtures
# ---------------------------------------------------------------------------------------------


def test_basic_fixture_distribution() -> None:
    bundle = one(FIXTURES / "basic")
    assert bundle.name == "aws_cloudfront_distribution.site"
    cfg = bundle.distribution_config
    assert cfg["Comment"] == "site-staging site"
    assert cfg["DefaultRootObject"] == "index.html"
    assert cfg["Aliases"] == {"Quantity": 1, "Items": ["www.example.com"]}
    origins = {o["Id"]: o for o in cfg["Origins"]["Items"]}
    assert list(origins) == ["s3-site", "api", "legacy"]  # dynamic map keys in sorted order
    assert origins["s3-site"]["DomainName"] == "site-staging-assets.s3.eu-west-1.amazonaws.com"
    assert origins["s3-site"]["OriginAccessControlId"] == "site-staging-oac"
    assert origins["s3-site"]["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    api = origins["api"]
    assert (api["DomainName"], api["OriginPath"]) == ("api.example.com", "/v1")
    assert api["CustomHeaders"]["Items"] == [
        {"HeaderName": "X-Origin-Verify", "HeaderValue": "edge-staging"}
    ]
    assert api["CustomOriginConfig"]["OriginReadTimeout"] == 30
    assert origins["legacy"]["CustomOriginConfig"]["OriginReadTimeout"] == 10
    group = cfg["OriginGroups"]["Items"][0]
    assert group["Id"] == "api-with-fallback"
    assert group["FailoverCriteria"]["StatusCodes"]["Items"] == [500, 502, 503, 504]
    assert [m["OriginId"] for m in group["Members"]["Items"]] == ["api", "legacy"]

    default = cfg["DefaultCacheBehavior"]
    assert default["CachePolicyId"] == OPTIMIZED
    assert default["ResponseHeadersPolicyId"] == SECURITY_HEADERS
    assert default["FunctionAssociations"]["Items"] == [
        {"EventType": "viewer-request", "FunctionARN": function_arn("site-staging-router")},
        {
            "EventType": "viewer-response",
            "FunctionARN": function_arn("site-staging-security-headers"),
        },
    ]
    behaviors = cfg["CacheBehaviors"]["Items"]
    # static, then the dynamic block's two (sorted keys), then static: as written
    assert [b["PathPattern"] for b in behaviors] == ["/assets/*", "/api/*", "/auth/*", "/legacy/*"]
    assert behaviors[0]["CachePolicyId"] == "site-staging-assets"
    assert behaviors[1]["CachePolicyId"] == DISABLED
    assert behaviors[1]["OriginRequestPolicyId"] == "site-staging-api"
    assert behaviors[1]["ResponseHeadersPolicyId"] == "site-staging-api-headers"
    assert behaviors[1]["AllowedMethods"]["Quantity"] == 7
    assert behaviors[3]["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST
    assert cfg["CustomErrorResponses"]["Items"] == [
        {
            "ErrorCode": 403,
            "ResponsePagePath": "/index.html",
            "ResponseCode": "200",
            "ErrorCachingMinTTL": 10,
        },
        {
            "ErrorCode": 404,
            "ResponsePagePath": "/errors/404.html",
            "ResponseCode": "404",
            "ErrorCachingMinTTL": 60,
        },
    ]
    assert cfg["Restrictions"]["GeoRestriction"] == {
        "RestrictionType": "whitelist",
        "Quantity": 5,
        "Items": ["US", "CA", "GB", "DE", "FR"],
    }
    assert cfg["ViewerCertificate"]["ACMCertificateArn"] == "<unresolved var.certificate_arn>"
    assert any("acm_certificate_arn: kept as a placeholder" in note for note in bundle.notes)
    assert (cfg["PriceClass"], cfg["HttpVersion"], cfg["IsIPV6Enabled"]) == (
        "PriceClass_100",
        "http2and3",
        True,
    )
    assert bundle.where["CacheBehaviors.Items.1"].endswith(
        "main.tf:88: aws_cloudfront_distribution.site.ordered_cache_behavior[1]"
    )
    assert bundle.origin_hints == {"s3-site": "aws_s3_bucket.site"}


def test_basic_fixture_resources() -> None:
    bundle = one(FIXTURES / "basic")
    router = bundle.functions["site-staging-router"]
    assert router.runtime == "cloudfront-js-2.0"
    assert router.file == FIXTURES / "basic" / "functions" / "router.js"
    assert router.code is None
    assert router.kvs == ["site-staging-redirects"]
    assert router.auto_publish is True
    inline = bundle.functions["site-staging-security-headers"]
    assert inline.runtime == "cloudfront-js-1.0"
    assert inline.code is not None
    assert inline.code.startswith("function handler(event) {\n  var")
    assert bundle.kvs["site-staging-redirects"].items == {
        "rw:/docs/v1": "301 /docs/v2",
        "rw:/old-pricing": "/pricing",
        "maintenance": '{"enabled":false,"until":null}',
    }
    assert bundle.cache_policies["site-staging-assets"] == {
        "Name": "site-staging-assets",
        "Comment": "Long-lived hashed assets; the version query string is part of the key",
        "DefaultTTL": 86400,
        "MaxTTL": 31536000,
        "MinTTL": 60,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": True,
            "EnableAcceptEncodingBrotli": True,
            "HeadersConfig": {"HeaderBehavior": "none"},
            "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": {
                "QueryStringBehavior": "whitelist",
                "QueryStrings": {"Quantity": 1, "Items": ["v"]},
            },
        },
    }
    assert bundle.origin_request_policies["site-staging-api"]["HeadersConfig"] == {
        "HeaderBehavior": "whitelist",
        "Headers": {"Quantity": 2, "Items": ["X-Tenant", "CloudFront-Viewer-Country"]},
    }
    headers = bundle.response_headers_policies["site-staging-api-headers"]
    assert headers["CorsConfig"]["AccessControlAllowOrigins"]["Items"] == [
        "https://www.example.com"
    ]
    assert headers["CustomHeadersConfig"]["Items"] == [
        {"Header": "X-Served-By", "Value": "site-staging", "Override": True}
    ]
    assert headers["RemoveHeadersConfig"]["Items"] == [{"Header": "Server"}]
    sources = {p.name for p in bundle.sources}
    assert {"main.tf", "variables.tf", "router.js"} <= sources


def test_basic_fixture_var_overrides() -> None:
    bundle = one(
        FIXTURES / "basic",
        variables={
            "environment": "prod",
            "certificate_arn": "arn:aws:acm:us-east-1:1:certificate/x",
            "allowed_countries": '["NL"]',
        },
    )
    cfg = bundle.distribution_config
    assert cfg["Comment"] == "site-prod site"
    assert cfg["ViewerCertificate"]["ACMCertificateArn"] == "arn:aws:acm:us-east-1:1:certificate/x"
    assert cfg["Restrictions"]["GeoRestriction"]["Items"] == ["NL"]
    assert not bundle.notes


def test_module_fixture() -> None:
    bundle = one(FIXTURES / "module")
    assert bundle.name == "module.cdn.aws_cloudfront_distribution.this[0]"
    cfg = bundle.distribution_config
    assert cfg["Comment"] == "Shop (shop.example.com)"
    origins = cfg["Origins"]["Items"]
    assert [o["Id"] for o in origins] == ["api", "web"]
    assert origins[0]["CustomOriginConfig"] == {
        "HTTPPort": 80,
        "HTTPSPort": 443,
        "OriginProtocolPolicy": "https-only",
        "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
    }
    assert origins[0]["CustomHeaders"]["Items"] == [
        {"HeaderName": "X-Shop-Edge", "HeaderValue": "1"}
    ]
    assert origins[1]["DomainName"] == "shop-web-default.s3.us-east-1.amazonaws.com"
    assert origins[1]["OriginAccessControlId"] == "cdn-s3"
    default = cfg["DefaultCacheBehavior"]
    assert default["CachePolicyId"] == OPTIMIZED
    assert default["FunctionAssociations"]["Items"] == [
        {"EventType": "viewer-request", "FunctionARN": function_arn("cdn-flags")}
    ]
    api, static = cfg["CacheBehaviors"]["Items"]
    assert (api["PathPattern"], api["CachePolicyId"], api["OriginRequestPolicyId"]) == (
        "/api/*",
        DISABLED,
        ALL_VIEWER_EXCEPT_HOST,
    )
    assert (static["PathPattern"], static["CachePolicyId"]) == ("/static/*", "cdn-static")
    assert bundle.cache_policies["cdn-static"]["MinTTL"] == 3600
    assert cfg["Restrictions"]["GeoRestriction"]["RestrictionType"] == "blacklist"
    assert cfg["CustomErrorResponses"]["Items"][0]["ErrorCachingMinTTL"] == 10
    flags = bundle.functions["cdn-flags"]
    assert flags.file == FIXTURES / "module" / "functions" / "flags.js"
    assert flags.kvs == ["shop-flags"]
    assert bundle.kvs["shop-flags"].items == {
        "checkout-v2": "on",
        "banner": '{"text":"Free shipping","until":"2030-01-01"}',
    }
    assert bundle.where["functions.cdn-flags"].endswith(
        'modules/cdn/main.tf:56: module.cdn.aws_cloudfront_function.this["flags"]'
    )


def test_show_json_state_fixture() -> None:
    bundle = one(FIXTURES / "show.json")
    assert bundle.name == "aws_cloudfront_distribution.shop"
    cfg = bundle.distribution_config
    assert [o["Id"] for o in cfg["Origins"]["Items"]] == ["s3-assets", "api"]
    assert cfg["Origins"]["Items"][0]["OriginAccessControlId"] == "E2QWRUHEXAMPLE"
    assert "OriginAccessControlId" not in cfg["Origins"]["Items"][1]  # "" in state
    default = cfg["DefaultCacheBehavior"]
    assert default["FunctionAssociations"]["Items"] == [
        {"EventType": "viewer-request", "FunctionARN": function_arn("shop-prod-router")}
    ]
    assert "OriginRequestPolicyId" not in default
    assert "DefaultTTL" not in default  # legacy TTLs only without a cache policy
    assert [b["PathPattern"] for b in cfg["CacheBehaviors"]["Items"]] == ["/assets/*", "/api/*"]
    router = bundle.functions["shop-prod-router"]
    assert router.code is not None
    assert "kvs.get('rw:'" in router.code
    assert router.kvs == ["shop-prod-redirects"]
    assert bundle.kvs["shop-prod-redirects"].items == {
        "rw:/old-pricing": "/pricing",
        "rw:/docs/v1": "301 /docs/v2",
    }
    policy_id = "2d3f4a5b-6c7d-4e8f-9a0b-1c2d3e4f5a6b"
    assert bundle.cache_policies[policy_id]["MinTTL"] == 60
    headers = bundle.response_headers_policies["7e8f9a0b-1c2d-4e3f-8a5b-6c7d8e9f0a1b"]
    assert headers["SecurityHeadersConfig"]["FrameOptions"] == {
        "Override": True,
        "FrameOption": "DENY",
    }
    assert bundle.where["response_headers_policies.7e8f9a0b-1c2d-4e3f-8a5b-6c7d8e9f0a1b"].endswith(
        "show.json: module.headers.aws_cloudfront_response_headers_policy.this"
    )


def test_fixture_functions_pass_lint() -> None:
    from edgesim.cli import main

    for path in (
        FIXTURES / "basic" / "functions" / "router.js",
        FIXTURES / "module" / "functions" / "flags.js",
    ):
        assert main(["lint", str(path)]) == 0


# ---------------------------------------------------------------------------------------------
# terraform show -json of a plan: unknown values resolved through the configuration
# ---------------------------------------------------------------------------------------------


def test_show_json_plan_resolves_unknowns_by_reference(tmp_path: Path) -> None:
    behavior = {
        "allowed_methods": ["GET", "HEAD"],
        "cached_methods": ["GET", "HEAD"],
        "target_origin_id": "s3",
        "viewer_protocol_policy": "allow-all",
        "function_association": [{"event_type": "viewer-request"}],
    }
    plan = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_cloudfront_distribution.d",
                        "mode": "managed",
                        "type": "aws_cloudfront_distribution",
                        "name": "d",
                        "values": {
                            "enabled": True,
                            "origin": [{"origin_id": "s3"}],
                            "default_cache_behavior": [behavior],
                        },
                    },
                    {
                        "address": "aws_cloudfront_function.f",
                        "mode": "managed",
                        "type": "aws_cloudfront_function",
                        "name": "f",
                        "values": {"name": "fn", "runtime": "cloudfront-js-2.0", "code": "x"},
                    },
                    {
                        "address": "aws_cloudfront_cache_policy.c",
                        "mode": "managed",
                        "type": "aws_cloudfront_cache_policy",
                        "name": "c",
                        "values": {"name": "pol", "min_ttl": 5},
                    },
                    {
                        "address": "aws_s3_bucket.b",
                        "mode": "managed",
                        "type": "aws_s3_bucket",
                        "name": "b",
                        "values": {"bucket": "bkt", "region": "eu-west-1"},
                    },
                ]
            }
        },
        "resource_changes": [
            {
                "address": "aws_cloudfront_distribution.d",
                "change": {
                    "after_unknown": {
                        "origin": [{"domain_name": True}],
                        "default_cache_behavior": [
                            {
                                "cache_policy_id": True,
                                "function_association": [{"function_arn": True}],
                            }
                        ],
                    }
                },
            },
            {"address": "aws_cloudfront_function.f", "change": {"after_unknown": {"arn": True}}},
            {"address": "aws_cloudfront_cache_policy.c", "change": {"after_unknown": {"id": True}}},
        ],
        "configuration": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_cloudfront_distribution.d",
                        "expressions": {
                            "origin": [
                                {
                                    "domain_name": {
                                        "references": [
                                            "aws_s3_bucket.b.bucket_regional_domain_name",
                                            "aws_s3_bucket.b",
                                        ]
                                    }
                                }
                            ],
                            "default_cache_behavior": [
                                {
                                    "cache_policy_id": {
                                        "references": [
                                            "aws_cloudfront_cache_policy.c.id",
                                            "aws_cloudfront_cache_policy.c",
                                        ]
                                    },
                                    "function_association": [
                                        {
                                            "function_arn": {
                                                "references": [
                                                    "aws_cloudfront_function.f.arn",
                                                    "aws_cloudfront_function.f",
                                                ]
                                            }
                                        }
                                    ],
                                }
                            ],
                        },
                    }
                ]
            }
        },
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    bundle = one(path)
    cfg = bundle.distribution_config
    assert cfg["Origins"]["Items"][0]["DomainName"] == "bkt.s3.eu-west-1.amazonaws.com"
    behavior_cfg = cfg["DefaultCacheBehavior"]
    assert behavior_cfg["CachePolicyId"] == "pol"
    assert behavior_cfg["FunctionAssociations"]["Items"][0]["FunctionARN"] == function_arn("fn")
    assert bundle.functions["fn"].code == "x"
    assert bundle.cache_policies["pol"]["MinTTL"] == 5


def test_show_json_that_is_not_show_output(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"a": 1}')
    with pytest.raises(InputError, match=r"not terraform show -json output"):
        load_terraform(path)


# ---------------------------------------------------------------------------------------------
# Variables, tfvars, locals
# ---------------------------------------------------------------------------------------------


VARS = """\
variable "host" {
  type    = string
  default = "default.example.com"
}
"""


def test_variable_precedence(tf: Any, tmp_path: Path) -> None:
    root = tf(
        {
            "main.tf": dist("var.host"),
            "variables.tf": VARS,
            "terraform.tfvars": 'host = "tfvars.example.com"\n',
            "b.auto.tfvars": 'host = "auto.example.com"\n',
            "extra.tfvars.json": '{"host": "file.example.com"}',
        }
    )
    domain = lambda b: b.distribution_config["Origins"]["Items"][0]["DomainName"]  # noqa: E731
    assert domain(one(root)) == "auto.example.com"
    assert domain(one(root, var_files=[Path("extra.tfvars.json")])) == "file.example.com"
    both = one(root, var_files=[Path("extra.tfvars.json")], variables={"host": "cli.example.com"})
    assert domain(both) == "cli.example.com"


def test_undeclared_var_flag(tf: Any) -> None:
    root = tf({"main.tf": dist()})
    with pytest.raises(InputError) as exc:
        load_terraform(root, variables={"nope": "1"})
    assert str(exc.value) == "-var nope=…: no variable 'nope' is declared"


def test_variable_type_conversion_with_optional_defaults(tf: Any) -> None:
    value = local_value(
        tf,
        "x = var.o",
        extra="""
variable "o" {
  type = object({
    a = string
    b = optional(number, 5)
    c = optional(list(string))
    n = optional(object({ d = optional(bool, true) }), {})
    s = optional(set(string), ["b", "a", "b"])
  })
  default = { a = 1, extra = "dropped" }
}
""",
    )
    assert value == {"a": "1", "b": 5, "c": None, "n": {"d": True}, "s": ["a", "b"]}


def test_missing_required_object_attribute(tf: Any) -> None:
    root = tf(
        {
            "main.tf": dist("var.o.host"),
            "v.tf": 'variable "o" {\n  type = object({ host = string })\n  default = {}\n}\n',
        }
    )
    with pytest.raises(InputError, match=r'var\.o: attribute "host" is required'):
        load_terraform(root)


def test_locals_cycle(tf: Any) -> None:
    root = tf({"main.tf": dist("local.a"), "l.tf": "locals {\n  a = local.b\n  b = local.a\n}\n"})
    with pytest.raises(InputError, match=r"cycle: local\.a → local\.b → local\.a"):
        load_terraform(root)


# ---------------------------------------------------------------------------------------------
# Expressions and functions
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('"a-${1 + 2}-${true}"', "a-3-true"),
        ('[for k, v in {b = 2, a = 1} : "${k}=${v}"]', ["a=1", "b=2"]),
        ('{for s in ["x", "y", "x"] : s => s...}', {"x": ["x", "x"], "y": ["y"]}),
        ("[for n in [1, 2, 3, 4] : n * 10 if n % 2 == 0]", [20, 40]),
        ("[{a = 1}, {a = 2}][*].a", [1, 2]),
        ('try(local.m["missing"], "fallback")', "fallback"),
        ('can(local.m["missing"])', False),
        ('coalesce(null, "", "z")', "z"),
        ('lookup({a = "1"}, "b", "d")', "d"),
        ("merge({a = 1, b = 1}, {b = 2})", {"a": 1, "b": 2}),
        ('toset(["b", "a", "b"])', ["a", "b"]),
        ('jsonencode({b = [1, "<"], a = null})', '{"a":null,"b":[1,"\\u003c"]}'),
        ('format("%s:%d:%q", "a", 7, "q")', 'a:7:"q"'),
        ('join(",", concat(["a"], ["b"]))', "a,b"),
        ('replace("a-b-c", "/-(\\\\w)/", "+$1")', "a+b+c"),
        ('upper(trimprefix("pre-x", "pre-"))', "X"),
        ("length(keys({a = 1, b = 2}))", 2),
        ('1 == "1"', False),
        ('true ? "y" : "n"', "y"),
        ("10 / 4", 2.5),
        ('"\\u00e9\\t"', "é\t"),
        ('"$${not} %%{this}"', "${not} %{this}"),
        ('"%{ for i in [1, 2] ~}${i} %{~ endfor ~}!"', "12!"),
        ('"%{ for i in [1, 2] }${i} %{ endfor }!"', "1 2 !"),
        ('"%{ if true }yes%{ else }no%{ endif }"', "yes"),
        ('element(["a", "b"], 3)', "b"),
        ("flatten([[1], [2, [3]]])", [1, 2, 3]),
        ('one([for x in ["a"] : x])', "a"),
    ],
)
def test_expressions(tf: Any, expr: str, expected: Any) -> None:
    assert local_value(tf, f"m = {{}}\nx = {expr}") == expected


def test_heredoc_trims_indentation_and_interpolates(tf: Any) -> None:
    value = local_value(tf, 'n = "v"\nx = <<-EOT\n    a ${local.n}\n      b\n    EOT\n')
    assert value == "a v\n  b\n"


def test_templatefile_and_file(tf: Any) -> None:
    tf({"t.tpl": "Hello ${name}!\n%{ for h in hosts ~}\n- ${h}\n%{ endfor ~}\n", "f.txt": "raw"})
    value = local_value(
        tf, 'x = templatefile("t.tpl", { name = "you", hosts = ["a", "b"] })\ny = file("f.txt")'
    )
    assert value == "Hello you!\n- a\n- b\n"


def test_path_module_and_unknown_functions(tf: Any) -> None:
    assert local_value(tf, 'x = "${path.module}/f.js"') == "./f.js"
    unknown = local_value(tf, "x = timestamp()")
    assert unknown.describe() == "cannot resolve timestamp() (timestamp() changes on every run)"


# ---------------------------------------------------------------------------------------------
# Resources: references, count/for_each, dynamic blocks, data sources
# ---------------------------------------------------------------------------------------------


def test_references_between_resources(tf: Any) -> None:
    root = tf(
        {
            "main.tf": dist(
                "aws_s3_bucket.b.bucket_domain_name",
                behavior=textwrap.dedent(
                    """\
                    origin_request_policy_id = data.aws_cloudfront_origin_request_policy.o.id
                    function_association {
                      event_type   = "viewer-request"
                      function_arn = aws_cloudfront_function.f[1].arn
                    }
                    """
                ),
            ),
            "r.tf": """\
                resource "aws_s3_bucket" "b" {
                  bucket = "my-bucket"
                }
                data "aws_cloudfront_origin_request_policy" "o" {
                  name = "Managed-CORS-S3Origin"
                }
                resource "aws_cloudfront_key_value_store" "k" {
                  name = "store"
                }
                resource "aws_cloudfrontkeyvaluestore_key" "k" {
                  for_each            = toset(["a", "b"])
                  key_value_store_arn = aws_cloudfront_key_value_store.k.arn
                  key                 = each.key
                  value               = upper(each.value)
                }
                resource "aws_cloudfront_function" "f" {
                  count   = 2
                  name    = "fn-${count.index}"
                  runtime = "cloudfront-js-2.0"
                  code    = "function handler(e) { return e.request; }"
                  publish = false
                  key_value_store_associations = [aws_cloudfront_key_value_store.k.arn]
                }
            """,
        }
    )
    bundle = one(root)
    cfg = bundle.distribution_config
    assert cfg["Origins"]["Items"][0]["DomainName"] == "my-bucket.s3.amazonaws.com"
    assert (
        cfg["DefaultCacheBehavior"]["OriginRequestPolicyId"]
        == "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"
    )
    assert cfg["DefaultCacheBehavior"]["FunctionAssociations"]["Items"][0]["FunctionARN"] == (
        function_arn("fn-1")
    )
    assert list(bundle.functions) == ["fn-1"]
    assert bundle.functions["fn-1"].auto_publish is False
    assert bundle.functions["fn-1"].kvs == ["store"]
    assert bundle.kvs["store"].items == {"a": "A", "b": "B"}
    assert kvs_arn("store").endswith(":key-value-store/store")
    assert bundle.where["kvs.store"] == "r.tf:7: aws_cloudfront_key_value_store.k"


def test_nested_dynamic_blocks_with_iterator(tf: Any) -> None:
    root = tf(
        {
            "main.tf": dist(
                extra=textwrap.dedent(
                    """\
                    dynamic "custom_error_response" {
                      for_each = [404, 403]
                      iterator = e
                      content {
                        error_code         = e.value
                        response_page_path = "/${e.key}.html"
                      }
                    }
                    """
                ),
                behavior=textwrap.dedent(
                    """\
                    dynamic "function_association" {
                      for_each = {}
                      content {
                        event_type   = function_association.key
                        function_arn = function_association.value
                      }
                    }
                    """
                ),
            )
        }
    )
    cfg = one(root).distribution_config
    assert cfg["CustomErrorResponses"]["Items"] == [
        {"ErrorCode": 404, "ResponsePagePath": "/0.html"},
        {"ErrorCode": 403, "ResponsePagePath": "/1.html"},
    ]
    assert cfg["DefaultCacheBehavior"]["FunctionAssociations"] == {"Quantity": 0, "Items": []}


def test_two_distributions_are_two_named_bundles(tf: Any) -> None:
    two = dist().replace('"site" {', '"site" {\n  for_each = toset(["a", "b"])', 1)
    root = tf({"main.tf": two})
    names = [b.name for b in load_terraform(root)]  # type: ignore[attr-defined]
    assert names == [
        'aws_cloudfront_distribution.site["a"]',
        'aws_cloudfront_distribution.site["b"]',
    ]


def test_legacy_forwarded_values(tf: Any) -> None:
    text = dist().replace(f'    cache_policy_id        = "{OPTIMIZED}"\n', "")
    text = text.replace(
        '    cached_methods         = ["GET", "HEAD"]\n',
        '    cached_methods         = ["GET", "HEAD"]\n    min_ttl = 0\n    default_ttl = 60\n'
        '    forwarded_values {\n      query_string = true\n      headers = ["Host"]\n'
        '      cookies {\n        forward = "whitelist"\n        whitelisted_names = ["s"]\n'
        "      }\n    }\n",
    )
    root = tf({"main.tf": text})
    behavior = one(root).distribution_config["DefaultCacheBehavior"]
    assert behavior["ForwardedValues"] == {
        "QueryString": True,
        "Cookies": {"Forward": "whitelist", "WhitelistedNames": {"Quantity": 1, "Items": ["s"]}},
        "Headers": {"Quantity": 1, "Items": ["Host"]},
        "QueryStringCacheKeys": {"Quantity": 0, "Items": []},
    }
    assert (behavior["MinTTL"], behavior["DefaultTTL"]) == (0, 60)
    assert "CachePolicyId" not in behavior


def test_lambda_associations_are_kept(tf: Any) -> None:
    # qualified_arn is computed in AWS's shape (issue 18): without publish = true, $LATEST.
    root = tf(
        {
            "main.tf": dist(
                behavior=textwrap.dedent(
                    """\
                    lambda_function_association {
                      event_type   = "origin-request"
                      lambda_arn   = aws_lambda_function.edge.qualified_arn
                      include_body = false
                    }
                    """
                )
            ),
            "l.tf": 'resource "aws_lambda_function" "edge" {\n  function_name = "edge"\n}\n',
        }
    )
    bundle = one(root)
    assert bundle.distribution_config["DefaultCacheBehavior"]["LambdaFunctionAssociations"] == {
        "Quantity": 1,
        "Items": [
            {
                "EventType": "origin-request",
                "LambdaFunctionARN": "arn:aws:lambda:us-east-1:123456789012:function:edge:$LATEST",
                "IncludeBody": False,
            }
        ],
    }


# ---------------------------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------------------------


def test_registry_module_from_terraform_init(tf: Any) -> None:
    module_dist = dist("var.origin_domain").replace('"site"', '"this"')
    root = tf(
        {
            "main.tf": """\
                module "cdn" {
                  source        = "example/cloudfront/aws"
                  version       = "~> 1.0"
                  origin_domain = "app.example.com"
                }
            """,
            ".terraform/modules/modules.json": json.dumps(
                {
                    "Modules": [
                        {"Key": "", "Source": "", "Dir": "."},
                        {
                            "Key": "cdn",
                            "Source": "registry.terraform.io/example/cloudfront/aws",
                            "Version": "1.2.0",
                            "Dir": ".terraform/modules/cdn",
                        },
                    ]
                }
            ),
            ".terraform/modules/cdn/main.tf": module_dist
            + 'variable "origin_domain" {\n  type = string\n}\n',
        }
    )
    bundle = one(root)
    assert bundle.name == "module.cdn.aws_cloudfront_distribution.this"
    assert bundle.distribution_config["Origins"]["Items"][0]["DomainName"] == "app.example.com"
    assert bundle.where["Origins.Items.0"] == (
        ".terraform/modules/cdn/main.tf:3: module.cdn.aws_cloudfront_distribution.this.origin[0]"
    )


def test_module_not_installed_is_noted_and_fails_only_where_used(tf: Any) -> None:
    root = tf(
        {
            "main.tf": dist("module.lb.dns_name"),
            "m.tf": 'module "lb" {\n  source = "example/lb/aws"\n}\n',
        }
    )
    with pytest.raises(InputError) as exc:
        load_terraform(root)
    assert str(exc.value) == (
        "main.tf:5: aws_cloudfront_distribution.site.origin[0].domain_name: cannot resolve "
        "module.lb.dns_name (example/lb/aws is not installed under .terraform/modules; run "
        "terraform init; pass -var or map the origin with --origin)"
    )


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def test_error_unknown_reference(tf: Any) -> None:
    root = tf({"main.tf": dist("aws_lb.api.dns_name")})
    with pytest.raises(InputError) as exc:
        load_terraform(root)
    assert str(exc.value) == (
        "main.tf:5: aws_cloudfront_distribution.site.origin[0].domain_name: cannot resolve "
        "aws_lb.api.dns_name (not in the configuration; pass -var or map the origin with --origin)"
    )


def test_error_computed_attribute_of_a_resource_edgesim_does_not_read(tf: Any) -> None:
    root = tf({"main.tf": dist("aws_lb.api.dns_name"), "lb.tf": 'resource "aws_lb" "api" {}\n'})
    with pytest.raises(InputError) as exc:
        load_terraform(root)
    assert str(exc.value) == (
        "main.tf:5: aws_cloudfront_distribution.site.origin[0].domain_name: cannot resolve "
        "aws_lb.api.dns_name (computed by AWS when applied; pass -var or map the origin with "
        "--origin)"
    )


def test_unresolved_origin_kept_when_mapped(tf: Any) -> None:
    root = tf({"main.tf": dist("aws_lb.api.dns_name")})
    bundle = one(root, mapped_origins={"o"})
    assert bundle.distribution_config["Origins"]["Items"][0]["DomainName"] == (
        "<unresolved aws_lb.api.dns_name>"
    )


def test_error_variable_without_value(tf: Any) -> None:
    root = tf({"main.tf": dist("var.host"), "v.tf": 'variable "host" {\n  type = string\n}\n'})
    with pytest.raises(InputError) as exc:
        load_terraform(root)
    assert str(exc.value) == (
        "main.tf:5: aws_cloudfront_distribution.site.origin[0].domain_name: cannot resolve "
        "var.host (no default and no -var or .tfvars value; pass -var host=…; pass -var or map "
        "the origin with --origin)"
    )
    assert (
        one(root, variables={"host": "h.example.com"}).distribution_config["Origins"]["Items"][0][
            "DomainName"
        ]
        == "h.example.com"
    )


def test_error_missing_file(tf: Any, tmp_path: Path) -> None:
    root = tf(
        {
            "main.tf": dist(
                behavior='function_association {\n  event_type = "viewer-request"\n'
                "  function_arn = aws_cloudfront_function.f.arn\n}\n"
            ),
            "f.tf": """\
                resource "aws_cloudfront_function" "f" {
                  name    = "f"
                  runtime = "cloudfront-js-2.0"
                  code    = file("functions/missing.js")
                }
            """,
        }
    )
    with pytest.raises(InputError) as exc:
        load_terraform(root)
    assert str(exc.value) == (
        'f.tf:4: aws_cloudfront_function.f.code: file "functions/missing.js" not found '
        "(functions/missing.js)"
    )


def test_error_evaluation_in_a_local_names_both_places(tf: Any) -> None:
    root = tf({"main.tf": dist("local.hosts[3]"), "l.tf": 'locals {\n  hosts = ["a"]\n}\n'})
    with pytest.raises(InputError) as exc:
        load_terraform(root)
    assert str(exc.value) == (
        "main.tf:5: aws_cloudfront_distribution.site.origin[0].domain_name: "
        "index 3 is out of range for 1 items"
    )


def test_error_unknown_for_each(tf: Any) -> None:
    text = dist(
        extra=textwrap.dedent(
            """\
            dynamic "custom_error_response" {
              for_each = var.codes
              content {
                error_code = custom_error_response.value
              }
            }
            """
        )
    )
    root = tf({"main.tf": text, "v.tf": 'variable "codes" {\n  type = list(number)\n}\n'})
    with pytest.raises(InputError) as exc:
        load_terraform(root)
    assert str(exc.value) == (
        "main.tf:23: aws_cloudfront_distribution.site.custom_error_response[0…] (dynamic): "
        "for_each must be known before apply: cannot resolve var.codes (no default and no -var "
        "or .tfvars value; pass -var codes=…)"
    )


def test_error_resource_for_each_over_a_list(tf: Any) -> None:
    text = dist().replace('"site" {', '"site" {\n  for_each = ["a"]', 1)
    root = tf({"main.tf": text})
    with pytest.raises(InputError) as exc:
        load_terraform(root)
    assert str(exc.value) == (
        "main.tf:1: aws_cloudfront_distribution.site: for_each must be a map or a set of strings "
        "(use toset)"
    )


def test_error_syntax(tf: Any) -> None:
    root = tf({"main.tf": 'resource "aws_cloudfront_distribution" "d" {\n  origin {\n    x = \n'})
    with pytest.raises(InputError, match=r"^main\.tf:3: syntax error at column"):
        load_terraform(root)


def test_error_required_attribute(tf: Any) -> None:
    root = tf({"main.tf": dist().replace('    target_origin_id       = "o"\n', "")})
    with pytest.raises(InputError) as exc:
        load_terraform(root)
    assert str(exc.value) == (
        "main.tf:7: aws_cloudfront_distribution.site.default_cache_behavior[0]."
        "target_origin_id: is required"
    )


def test_error_no_distribution(tf: Any) -> None:
    root = tf({"main.tf": 'resource "aws_s3_bucket" "b" {}\n'})
    with pytest.raises(InputError, match=r": no aws_cloudfront_distribution$"):
        load_terraform(root)


def test_error_no_tf_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no \.tf files"):
        load_terraform(tmp_path)


def test_policy_not_in_configuration_is_noted(tf: Any) -> None:
    root = tf({"main.tf": dist().replace(OPTIMIZED, "custom-id")})
    bundle = one(root)
    assert bundle.distribution_config["DefaultCacheBehavior"]["CachePolicyId"] == "custom-id"
    assert bundle.notes == [
        "cache policy custom-id is not in the configuration: pass --policy custom-id=policy.json"
    ]


def test_function_not_in_configuration_is_noted(tf: Any) -> None:
    arn = "arn:aws:cloudfront::999999999999:function/elsewhere"
    root = tf(
        {
            "main.tf": dist(
                behavior=f'function_association {{\n  event_type = "viewer-request"\n'
                f'  function_arn = "{arn}"\n}}\n'
            )
        }
    )
    bundle = one(root)
    association = bundle.distribution_config["DefaultCacheBehavior"]["FunctionAssociations"]
    assert association["Items"][0]["FunctionARN"] == function_arn("elsewhere")
    assert bundle.functions == {}
    assert bundle.notes == [
        f"function {arn} is not in the configuration: pass --function elsewhere=FILE.js"
    ]
