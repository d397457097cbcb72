"""The CloudFormation/SAM importer: every intrinsic function, every resource kind distributions
use, the errors (file, property path, expression), and the committed fixtures."""

from __future__ import annotations

import base64
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from edgesim.errors import InputError
from edgesim.importers.bundle import ImportBundle, function_arn
from edgesim.importers.cloudformation import load_template

FIXTURES = Path(__file__).parents[3] / "fixtures" / "import" / "cloudformation"
AT = "Resources.Site.Properties.DistributionConfig.X"

RESOURCES = """\
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: my-site
  Anonymous:
    Type: AWS::S3::Bucket
  Store:
    Type: AWS::CloudFront::KeyValueStore
    Properties:
      Name: store
  Router:
    Type: AWS::CloudFront::Function
    Properties:
      Name: router
      AutoPublish: true
      FunctionCode: "function handler(event) { return event.request; }"
      FunctionConfig:
        Comment: router
        Runtime: cloudfront-js-2.0
  Cache:
    Type: AWS::CloudFront::CachePolicy
    Properties:
      CachePolicyConfig: {Name: cache, MinTTL: 0, DefaultTTL: 60, MaxTTL: 600}
  Requests:
    Type: AWS::CloudFront::OriginRequestPolicy
    Properties:
      OriginRequestPolicyConfig: {Name: requests}
  Headers:
    Type: AWS::CloudFront::ResponseHeadersPolicy
    Properties:
      ResponseHeadersPolicyConfig: {Name: headers}
  Oac:
    Type: AWS::CloudFront::OriginAccessControl
    Properties:
      OriginAccessControlConfig: {Name: oac, OriginAccessControlOriginType: s3, SigningBehavior: always, SigningProtocol: sigv4}
  Oai:
    Type: AWS::CloudFront::CloudFrontOriginAccessIdentity
    Properties:
      CloudFrontOriginAccessIdentityConfig: {Comment: oai}
"""

PRELUDE = """\
Parameters:
  Stage: {Type: String, Default: prod, AllowedValues: [prod, dev]}
  Domains: {Type: CommaDelimitedList, Default: "a.example, b.example"}
  Port: {Type: Number, Default: 8443}
  Secret: {Type: String}
  Version: {Type: "AWS::SSM::Parameter::Value<String>", Default: /site/version}
Mappings:
  Settings:
    prod: {Ttl: 60, Class: PriceClass_All}
    dev: {Ttl: 0, Class: PriceClass_100}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsDev: !Not [!Condition IsProd]
  Both: !And [!Condition IsProd, !Equals [!Select [0, !Ref Domains], a.example]]
  Either: !Or [!Condition IsDev, !Equals [x, y]]
"""


def load(path: Path, **kwargs: Any) -> dict[str, ImportBundle]:
    """load_template's bundles by name, checking the order and names agree."""
    bundles = load_template(path, **kwargs)
    found = {bundle.name: bundle for bundle in bundles}
    assert list(found) == [bundle.name for bundle in bundles]
    return found


def write(tmp_path: Path, text: str, name: str = "template.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def template(expression: str, resources: str = RESOURCES, prelude: str = PRELUDE) -> str:
    return (
        prelude
        + "Resources:\n"
        + resources
        + "  Site:\n"
        + "    Type: AWS::CloudFront::Distribution\n"
        + "    Properties:\n"
        + "      DistributionConfig:\n"
        + "        Enabled: true\n"
        + f"        X: {expression}\n"
    )


def evaluate(tmp_path: Path, expression: str, **kwargs: Any) -> Any:
    """The distribution's X member after resolution (absent: the sentinel 'ABSENT')."""
    path = write(tmp_path, template(expression))
    bundle = load(path, **kwargs)["Site"]
    return bundle.distribution_config.get("X", "ABSENT")


def error(tmp_path: Path, expression: str, **kwargs: Any) -> str:
    path = write(tmp_path, template(expression))
    with pytest.raises(InputError) as caught:
        load(path, **kwargs)
    return str(caught.value)


# -- Ref, parameters and pseudo parameters --------------------------------------------------------


def test_ref_to_a_parameter_uses_its_default(tmp_path: Path) -> None:
    assert evaluate(tmp_path, "!Ref Stage") == "prod"


def test_a_parameter_override_wins_over_the_default(tmp_path: Path) -> None:
    assert evaluate(tmp_path, "!Ref Stage", parameters={"Stage": "dev"}) == "dev"


def test_a_parameter_without_default_takes_an_override(tmp_path: Path) -> None:
    assert evaluate(tmp_path, "!Ref Secret", parameters={"Secret": "s3cr3t"}) == "s3cr3t"


def test_number_parameters_are_strings_as_cloudformation_passes_them(tmp_path: Path) -> None:
    assert evaluate(tmp_path, "!Ref Port") == "8443"


def test_comma_delimited_list_parameters_are_lists_with_members_trimmed(tmp_path: Path) -> None:
    assert evaluate(tmp_path, "!Ref Domains") == ["a.example", "b.example"]
    assert evaluate(tmp_path, "!Ref Domains", parameters={"Domains": "x,y,z"}) == ["x", "y", "z"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AWS::Region", "us-east-1"),
        ("AWS::AccountId", "123456789012"),
        ("AWS::StackName", "template"),
        ("AWS::Partition", "aws"),
        ("AWS::URLSuffix", "amazonaws.com"),
        ("AWS::NotificationARNs", []),
    ],
)
def test_pseudo_parameters(tmp_path: Path, name: str, value: Any) -> None:
    assert evaluate(tmp_path, f"!Ref {name}") == value


def test_stack_id_and_a_given_stack_name(tmp_path: Path) -> None:
    stack_id = evaluate(tmp_path, "!Ref AWS::StackId", stack_name="site")
    assert stack_id.startswith("arn:aws:cloudformation:us-east-1:123456789012:stack/site/")
    assert evaluate(tmp_path, "!Ref AWS::StackName", stack_name="site") == "site"


def test_no_value_leaves_the_property_and_list_items_out(tmp_path: Path) -> None:
    assert evaluate(tmp_path, "!Ref AWS::NoValue") == "ABSENT"
    assert evaluate(tmp_path, "[a, !Ref AWS::NoValue, b]") == ["a", "b"]


def test_missing_parameter_value(tmp_path: Path) -> None:
    assert error(tmp_path, "!Ref Secret") == (
        f"{tmp_path / 'template.yaml'}: {AT}: !Ref Secret: "
        "parameter Secret has no Default: pass --parameter Secret=VALUE"
    )


def test_ssm_parameters_need_an_override(tmp_path: Path) -> None:
    assert error(tmp_path, "!Ref Version") == (
        f"{tmp_path / 'template.yaml'}: {AT}: !Ref Version: parameter Version is read from the "
        "SSM parameter '/site/version' when deployed: pass --parameter Version=VALUE"
    )
    assert evaluate(tmp_path, "!Ref Version", parameters={"Version": "7"}) == "7"


def test_an_unknown_parameter_override_is_refused(tmp_path: Path) -> None:
    assert error(tmp_path, "x", parameters={"Nope": "1"}) == (
        f"{tmp_path / 'template.yaml'}: --parameter Nope: the template has no such parameter "
        "(its parameters: Domains, Port, Secret, Stage, Version)"
    )


def test_an_override_outside_allowed_values_is_refused(tmp_path: Path) -> None:
    assert error(tmp_path, "x", parameters={"Stage": "qa"}) == (
        f"{tmp_path / 'template.yaml'}: Parameters.Stage: 'qa' is not one of its AllowedValues "
        "(prod, dev)"
    )


def test_ref_to_nothing(tmp_path: Path) -> None:
    assert error(tmp_path, "!Ref Nothing") == (
        f"{tmp_path / 'template.yaml'}: {AT}: !Ref Nothing: no parameter or resource named Nothing"
    )


def test_unknown_pseudo_parameter(tmp_path: Path) -> None:
    assert error(tmp_path, "!Ref AWS::Moon") == (
        f"{tmp_path / 'template.yaml'}: {AT}: !Ref AWS::Moon: unknown pseudo parameter AWS::Moon"
    )


# -- Fn::GetAtt and the resource kinds -------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("!Ref Bucket", "my-site"),
        ("!GetAtt Bucket.Arn", "arn:aws:s3:::my-site"),
        ("!GetAtt Bucket.DomainName", "my-site.s3.amazonaws.com"),
        ("!GetAtt Bucket.RegionalDomainName", "my-site.s3.us-east-1.amazonaws.com"),
        ("!GetAtt Bucket.DualStackDomainName", "my-site.s3.dualstack.us-east-1.amazonaws.com"),
        ("!GetAtt Bucket.WebsiteURL", "http://my-site.s3-website-us-east-1.amazonaws.com"),
        ("!GetAtt [Bucket, RegionalDomainName]", "my-site.s3.us-east-1.amazonaws.com"),
        ("{'Fn::GetAtt': Bucket.Arn}", "arn:aws:s3:::my-site"),
        ("!Ref Router", function_arn("router")),
        ("!GetAtt Router.FunctionARN", function_arn("router")),
        ("!GetAtt Router.FunctionMetadata.FunctionARN", function_arn("router")),
        ("!GetAtt Router.Stage", "LIVE"),
        ("!Ref Store", "store"),
        ("!GetAtt Store.Status", "READY"),
        ("!Ref Cache", "Cache"),
        ("!GetAtt Cache.Id", "Cache"),
        ("!GetAtt Requests.Id", "Requests"),
        ("!Ref Headers", "Headers"),
        ("!GetAtt Oac.Id", "Oac"),
        ("!Ref Oai", "Oai"),
    ],
)
def test_ref_and_get_att_of_modelled_resources(tmp_path: Path, expression: str, value: str) -> None:
    assert evaluate(tmp_path, expression) == value


def test_store_arn_and_id_agree(tmp_path: Path) -> None:
    arn = evaluate(tmp_path, "!GetAtt Store.Arn")
    store_id = evaluate(tmp_path, "!GetAtt Store.Id")
    assert arn == f"arn:aws:cloudfront::123456789012:key-value-store/{store_id}"
    assert len(store_id) == 36


def test_generated_bucket_names_are_deterministic_and_lower_case(tmp_path: Path) -> None:
    name = evaluate(tmp_path, "!Ref Anonymous", stack_name="My-Stack")
    assert name.startswith("my-stack-anonymous-")
    assert name == name.lower()
    assert evaluate(tmp_path, "!Ref Anonymous", stack_name="My-Stack") == name
    assert evaluate(tmp_path, "!GetAtt Anonymous.RegionalDomainName", stack_name="My-Stack") == (
        f"{name}.s3.us-east-1.amazonaws.com"
    )


def test_distribution_id_and_domain(tmp_path: Path) -> None:
    distribution_id = evaluate(tmp_path, "!Ref Site")
    assert distribution_id.startswith("E")
    assert distribution_id == evaluate(tmp_path, "!GetAtt Site.Id")
    assert evaluate(tmp_path, "!GetAtt Site.DomainName").endswith(".cloudfront.net")


def test_get_att_with_a_ref_as_the_attribute_name(tmp_path: Path) -> None:
    assert evaluate(tmp_path, "!GetAtt [Bucket, !Select [0, [Arn]]]") == "arn:aws:s3:::my-site"


def test_unknown_attribute(tmp_path: Path) -> None:
    assert error(tmp_path, "!GetAtt Bucket.Nope") == (
        f"{tmp_path / 'template.yaml'}: {AT}: !GetAtt Bucket.Nope: unknown attribute (an "
        "AWS::S3::Bucket has Arn, DomainName, DualStackDomainName, RegionalDomainName, WebsiteURL)"
    )


def test_get_att_of_a_missing_resource(tmp_path: Path) -> None:
    assert error(tmp_path, "!GetAtt Nope.Arn") == (
        f"{tmp_path / 'template.yaml'}: {AT}: !GetAtt Nope.Arn: no parameter or resource named Nope"
    )


def test_unmodelled_resources_give_placeholders_and_a_note(tmp_path: Path) -> None:
    resources = RESOURCES + "  Queue:\n    Type: AWS::SQS::Queue\n"
    path = write(tmp_path, template("!GetAtt Queue.QueueName", resources))
    bundle = load(path)["Site"]
    value = bundle.distribution_config["X"]
    assert value.startswith("queue-queuename-")
    assert bundle.notes == [
        f"{path}: Resources.Queue (AWS::SQS::Queue) is not emulated: GetAtt Queue.QueueName "
        f"stands in as {value!r}"
    ]


@pytest.mark.parametrize(
    ("resources", "expression", "expected"),
    [
        (
            "  Api:\n    Type: AWS::ApiGateway::RestApi\n",
            "!Sub ${Api}.execute-api.${AWS::Region}.amazonaws.com",
            r"[0-9a-f]{10}\.execute-api\.us-east-1\.amazonaws\.com",
        ),
        (
            "  Api:\n    Type: AWS::ApiGatewayV2::Api\n",
            "!Select [2, !Split [/, !GetAtt Api.ApiEndpoint]]",
            r"[0-9a-f]{10}\.execute-api\.us-east-1\.amazonaws\.com",
        ),
        (
            "  Url:\n    Type: AWS::Lambda::Url\n",
            "!Select [2, !Split [/, !GetAtt Url.FunctionUrl]]",
            r"[0-9a-f]{32}\.lambda-url\.us-east-1\.on\.aws",
        ),
        (
            "  Lb:\n    Type: AWS::ElasticLoadBalancingV2::LoadBalancer\n",
            "!GetAtt Lb.DNSName",
            r"lb-[0-9a-f]{10}\.us-east-1\.elb\.amazonaws\.com",
        ),
        (
            "  Server:\n    Type: AWS::EC2::Instance\n",
            "!GetAtt Server.PublicDnsName",
            r"ec2-203-\d+-\d+-\d+\.compute-1\.amazonaws\.com",
        ),
        (
            "  Fn:\n    Type: AWS::Lambda::Function\n"
            "  FnVersion:\n    Type: AWS::Lambda::Version\n"
            "    Properties: {FunctionName: !Ref Fn}\n",
            "!Ref FnVersion",
            r"arn:aws:lambda:us-east-1:123456789012:function:template-Fn-[0-9a-f]{10}:1",
        ),
    ],
)
def test_origin_resources_get_values_in_aws_shape(
    tmp_path: Path, resources: str, expression: str, expected: str
) -> None:
    path = write(tmp_path, template(expression, RESOURCES + resources))
    bundle = load(path)["Site"]
    assert __import__("re").fullmatch(expected, bundle.distribution_config["X"])
    assert bundle.notes == []


# -- Fn::Sub, Fn::Join, Fn::Select, Fn::Split -----------------------------------------------------


def test_sub_string_form(tmp_path: Path) -> None:
    assert evaluate(
        tmp_path, "!Sub '${AWS::StackName}-${Stage}-${Bucket}-${Bucket.Arn}-${!Literal}'"
    ) == ("template-prod-my-site-arn:aws:s3:::my-site-${Literal}")


def test_sub_with_a_variable_map(tmp_path: Path) -> None:
    assert evaluate(tmp_path, "!Sub ['${A}/${B}/${Stage}', {A: x, B: !Ref Bucket}]") == (
        "x/my-site/prod"
    )


def test_sub_refuses_a_list(tmp_path: Path) -> None:
    assert error(tmp_path, "!Sub '${Domains}'") == (
        f"{tmp_path / 'template.yaml'}: {AT}: !Sub ${{Domains}}: ${{Domains}} is not a string"
    )


def test_join(tmp_path: Path) -> None:
    assert evaluate(tmp_path, "!Join [',', [a, !Ref Stage, 3, true]]") == "a,prod,3,true"
    assert evaluate(tmp_path, "!Join ['|', !Ref Domains]") == "a.example|b.example"


def test_join_refuses_nested_lists(tmp_path: Path) -> None:
    assert error(tmp_path, "!Join ['', [a, [b]]]") == (
        f'{tmp_path / "template.yaml"}: {AT}: !Join ["", [a, [b]]]: '
        "Fn::Join joins strings, not lists or mappings"
    )


def test_select_and_split(tmp_path: Path) -> None:
    assert evaluate(tmp_path, "!Select [1, !Ref Domains]") == "b.example"
    assert evaluate(tmp_path, "!Select ['0', [x, y]]") == "x"
    assert evaluate(tmp_path, "!Split [., a.b.c]") == ["a", "b", "c"]


def test_select_out_of_range(tmp_path: Path) -> None:
    assert error(tmp_path, "!Select [5, [x, y]]") == (
        f"{tmp_path / 'template.yaml'}: {AT}: !Select [5, [x, y]]: "
        "index 5 is out of range (the list has 2)"
    )


# -- conditions, Fn::If, Fn::FindInMap, the rest ---------------------------------------------------


def test_if_follows_conditions_from_defaults_and_overrides(tmp_path: Path) -> None:
    assert evaluate(tmp_path, "!If [IsProd, A, B]") == "A"
    assert evaluate(tmp_path, "!If [IsProd, A, B]", parameters={"Stage": "dev"}) == "B"
    assert evaluate(tmp_path, "!If [IsDev, A, B]") == "B"
    assert evaluate(tmp_path, "!If [Both, A, B]") == "A"
    assert evaluate(tmp_path, "!If [Both, A, B]", parameters={"Domains": "z"}) == "B"
    assert evaluate(tmp_path, "!If [Either, A, B]") == "B"
    assert evaluate(tmp_path, "!If [Either, A, B]", parameters={"Stage": "dev"}) == "A"


def test_if_with_no_value(tmp_path: Path) -> None:
    assert evaluate(tmp_path, "!If [IsDev, x, !Ref AWS::NoValue]") == "ABSENT"


def test_if_with_an_unknown_condition(tmp_path: Path) -> None:
    assert error(tmp_path, "!If [Nope, a, b]") == (
        f"{tmp_path / 'template.yaml'}: {AT}: no condition named Nope"
    )


def test_resources_whose_condition_is_false_are_not_created(tmp_path: Path) -> None:
    resources = RESOURCES + (
        "  DevBucket:\n    Type: AWS::S3::Bucket\n    Condition: IsDev\n"
        "  DevSite:\n    Type: AWS::CloudFront::Distribution\n    Condition: IsDev\n"
        "    Properties: {DistributionConfig: {Enabled: true}}\n"
    )
    path = write(tmp_path, template("!Ref Stage", resources))
    assert list(load(path)) == ["Site"]
    assert list(load(path, parameters={"Stage": "dev"})) == ["DevSite", "Site"]
    path = write(tmp_path, template("!Ref DevBucket", resources))
    with pytest.raises(InputError) as caught:
        load(path)
    assert str(caught.value) == (
        f"{path}: {AT}: !Ref DevBucket: resource DevBucket is not created (condition IsDev is false)"
    )


def test_find_in_map(tmp_path: Path) -> None:
    assert evaluate(tmp_path, "!FindInMap [Settings, !Ref Stage, Ttl]") == 60
    assert evaluate(tmp_path, "!FindInMap [Settings, dev, Class]") == "PriceClass_100"
    assert evaluate(tmp_path, "!FindInMap [Settings, qa, Ttl, {DefaultValue: 5}]") == 5


def test_find_in_map_with_a_missing_key(tmp_path: Path) -> None:
    assert error(tmp_path, "!FindInMap [Settings, qa, Ttl]") == (
        f"{tmp_path / 'template.yaml'}: {AT}: !FindInMap [Settings, qa, Ttl]: no key 'qa' in Mappings"
    )


def test_base64_get_azs_length_and_to_json_string(tmp_path: Path) -> None:
    assert evaluate(tmp_path, "{'Fn::Base64': !Ref Stage}") == base64.b64encode(b"prod").decode()
    assert evaluate(tmp_path, "!Select [0, !GetAZs '']") == "us-east-1a"
    assert evaluate(tmp_path, "{'Fn::Length': [a, b, c]}") == 3
    assert evaluate(tmp_path, "{'Fn::ToJsonString': {a: !Ref Stage}}") == '{"a":"prod"}'


def test_import_value_cannot_be_resolved(tmp_path: Path) -> None:
    assert error(tmp_path, "!ImportValue shared-bucket") == (
        f"{tmp_path / 'template.yaml'}: {AT}: !ImportValue shared-bucket: cannot resolve: the value "
        "is exported by another stack, which edgesim does not read; write the value (or a "
        "parameter) in its place"
    )


def test_unknown_intrinsic(tmp_path: Path) -> None:
    assert error(tmp_path, "!Frobnicate [a, b]") == (
        f"{tmp_path / 'template.yaml'}: {AT}: !Frobnicate [a, b]: unknown intrinsic function "
        "Fn::Frobnicate"
    )


def test_an_error_inside_a_nested_intrinsic_names_the_inner_expression(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        template("x").replace(
            "        X: x\n",
            "        Origins:\n          - Id: s3\n"
            "            DomainName: !Join ['', [!GetAtt Bucket.Nope, '']]\n",
        ),
    )
    with pytest.raises(InputError) as caught:
        load(path)
    assert str(caught.value).startswith(
        f"{path}: Resources.Site.Properties.DistributionConfig.Origins[0].DomainName: "
        "!GetAtt Bucket.Nope: unknown attribute"
    )


def test_circular_references_are_reported(tmp_path: Path) -> None:
    resources = "  Loop:\n    Type: AWS::S3::Bucket\n    Properties: {BucketName: !Ref Loop}\n"
    path = write(tmp_path, template("!Ref Loop", resources))
    with pytest.raises(InputError) as caught:
        load(path)
    assert str(caught.value) == (
        f"{path}: Resources.Loop.Properties.BucketName: circular reference: "
        "Loop.BucketName → Loop.BucketName"
    )


def test_json_templates_render_expressions_as_json(tmp_path: Path) -> None:
    data = {
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket"},
            "Site": {
                "Type": "AWS::CloudFront::Distribution",
                "Properties": {"DistributionConfig": {"X": {"Fn::GetAtt": ["Bucket", "Nope"]}}},
            },
        }
    }
    path = write(tmp_path, json.dumps(data), "template.json")
    with pytest.raises(InputError) as caught:
        load(path)
    assert str(caught.value).startswith(
        f'{path}: {AT}: {{"Fn::GetAtt": ["Bucket", "Nope"]}}: unknown attribute'
    )


# -- reading files ----------------------------------------------------------------------------------


def test_yaml_timestamps_stay_strings(tmp_path: Path) -> None:
    path = write(tmp_path, "AWSTemplateFormatVersion: 2010-09-09\n" + template("2024-01-01"))
    assert load(path)["Site"].distribution_config["X"] == "2024-01-01"


def test_not_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "Resources:\n  - a\n b: [\n")
    with pytest.raises(InputError, match=r"template\.yaml:3:\d+: not valid YAML: "):
        load(path)


def test_not_json(tmp_path: Path) -> None:
    path = write(tmp_path, '{"Resources": {', "template.json")
    with pytest.raises(InputError, match=r"template\.json:1:16: not valid JSON: "):
        load(path)


def test_not_a_template(tmp_path: Path) -> None:
    path = write(tmp_path, "just: a mapping\n")
    with pytest.raises(InputError) as caught:
        load(path)
    assert (
        str(caught.value) == f"{path}: not a CloudFormation template (it has no Resources mapping)"
    )


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.yaml: cannot read the template: "):
        load(tmp_path / "nope.yaml")


# -- SAM and transforms ------------------------------------------------------------------------------

SAM = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Runtime: nodejs20.x
      InlineCode: "exports.handler = async () => ({statusCode: 200})"
      FunctionUrlConfig: {AuthType: NONE}
      Events:
        Get: {Type: Api, Properties: {Path: /, Method: get}}
  Site:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        Origins:
          - Id: url
            DomainName: !Select [2, !Split [/, !GetAtt ApiUrl.FunctionUrl]]
            CustomOriginConfig: {OriginProtocolPolicy: https-only}
          - Id: rest
            DomainName: !Sub ${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com
            OriginPath: /Prod
            CustomOriginConfig: {OriginProtocolPolicy: https-only}
        DefaultCacheBehavior: {TargetOriginId: url, ViewerProtocolPolicy: allow-all}
"""


def test_sam_templates_and_the_resources_the_transform_adds(tmp_path: Path) -> None:
    bundle = load(write(tmp_path, SAM))["Site"]
    url, rest = bundle.distribution_config["Origins"]
    assert url["DomainName"].endswith(".lambda-url.us-east-1.on.aws")
    assert rest["DomainName"].endswith(".execute-api.us-east-1.amazonaws.com")
    assert bundle.notes == []


def test_sam_implicit_resources_need_the_transform(tmp_path: Path) -> None:
    path = write(tmp_path, SAM.replace("Transform: AWS::Serverless-2016-10-31\n", ""))
    with pytest.raises(InputError) as caught:
        load(path)
    assert str(caught.value) == (
        f"{path}: Resources.Site.Properties.DistributionConfig.Origins[0].DomainName: "
        "!GetAtt ApiUrl.FunctionUrl: no parameter or resource named ApiUrl"
    )


def test_other_transforms_are_noted(tmp_path: Path) -> None:
    path = write(tmp_path, "Transform: [AWS::LanguageExtensions, MyMacro]\n" + template("x", ""))
    assert load(path)["Site"].notes == [
        f"{path}: Transform MyMacro is not applied by edgesim (only AWS::Serverless-2016-10-31 "
        "and AWS::LanguageExtensions need none for distributions)"
    ]


# -- functions, stores and policies in the bundle ----------------------------------------------------


def site(behaviour: str, resources: str = RESOURCES) -> str:
    return (
        "Resources:\n"
        + resources
        + "  Site:\n"
        + "    Type: AWS::CloudFront::Distribution\n"
        + "    Properties:\n"
        + "      DistributionConfig:\n"
        + "        Enabled: true\n"
        + "        Origins: [{Id: s3, DomainName: !GetAtt Bucket.RegionalDomainName, "
        + "S3OriginConfig: {}}]\n"
        + "        DefaultCacheBehavior:\n"
        + textwrap.indent(textwrap.dedent(behaviour), " " * 10)
    )


def test_functions_with_store_associations_land_in_the_bundle(tmp_path: Path) -> None:
    resources = RESOURCES.replace(
        "        Runtime: cloudfront-js-2.0\n",
        "        Runtime: cloudfront-js-2.0\n"
        "        KeyValueStoreAssociations: [{KeyValueStoreARN: !GetAtt Store.Arn}]\n",
    )
    path = write(
        tmp_path,
        site(
            """\
            TargetOriginId: s3
            ViewerProtocolPolicy: allow-all
            FunctionAssociations:
              - {EventType: viewer-request, FunctionARN: !GetAtt Router.FunctionARN}
            """,
            resources,
        ),
    )
    bundle = load(path)["Site"]
    router = bundle.functions["router"]
    assert router.runtime == "cloudfront-js-2.0"
    assert router.code == "function handler(event) { return event.request; }"
    assert router.kvs == ["store"]
    assert router.auto_publish is True
    assert router.where == f"{path}: Resources.Router"
    assert bundle.kvs["store"].data is None
    assert bundle.notes == [
        f"{path}: Resources.Store: KeyValueStore store has no ImportSource and starts empty: "
        "seed it with --kvs store=FILE"
    ]
    assert bundle.where["functions.router"] == f"{path}: Resources.Router"
    assert bundle.where["kvs.store"] == f"{path}: Resources.Store"


def test_external_functions_and_stores_are_noted(tmp_path: Path) -> None:
    external = "arn:aws:cloudfront::111111111111:key-value-store/ab12"
    resources = RESOURCES.replace(
        "        Runtime: cloudfront-js-2.0\n",
        "        Runtime: cloudfront-js-2.0\n"
        f"        KeyValueStoreAssociations: [{{KeyValueStoreARN: '{external}'}}]\n",
    )
    path = write(
        tmp_path,
        site(
            """\
            TargetOriginId: s3
            ViewerProtocolPolicy: allow-all
            FunctionAssociations:
              - {EventType: viewer-request, FunctionARN: !Ref Router}
              - {EventType: viewer-response, FunctionARN: 'arn:aws:cloudfront::111111111111:function/shared'}
            """,
            resources,
        ),
    )
    bundle = load(path)["Site"]
    assert bundle.functions["router"].kvs == ["ab12"]
    assert bundle.kvs["ab12"].data is None
    at = "Resources.Site.Properties.DistributionConfig.DefaultCacheBehavior"
    assert bundle.notes == [
        f"{path}: Resources.Router.Properties.FunctionConfig.KeyValueStoreAssociations[0]"
        ".KeyValueStoreARN: KeyValueStore ab12 is not defined in this template: "
        "seed it with --kvs ab12=FILE",
        f"{path}: {at}.FunctionAssociations[1].FunctionARN: function shared is not defined in "
        "this template: give its code with --function shared=PATH",
    ]


def test_a_function_with_a_bad_runtime(tmp_path: Path) -> None:
    resources = RESOURCES.replace("Runtime: cloudfront-js-2.0", "Runtime: nodejs20.x")
    path = write(
        tmp_path,
        site(
            """\
            TargetOriginId: s3
            ViewerProtocolPolicy: allow-all
            FunctionAssociations: [{EventType: viewer-request, FunctionARN: !Ref Router}]
            """,
            resources,
        ),
    )
    with pytest.raises(InputError) as caught:
        load(path)
    assert str(caught.value) == (
        f"{path}: Resources.Router.Properties.FunctionConfig.Runtime: 'nodejs20.x' is not a "
        "CloudFront Functions runtime (cloudfront-js-1.0, cloudfront-js-2.0)"
    )


def test_a_function_without_a_name(tmp_path: Path) -> None:
    resources = RESOURCES.replace("      Name: router\n", "")
    path = write(tmp_path, template("!Ref Router", resources))
    with pytest.raises(InputError) as caught:
        load(path)
    assert str(caught.value) == f"{path}: Resources.Router.Properties.Name: is required"


def test_policies_referenced_by_behaviours_land_in_the_bundle(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        site(
            """\
            TargetOriginId: s3
            ViewerProtocolPolicy: allow-all
            CachePolicyId: !Ref Cache
            OriginRequestPolicyId: !GetAtt Requests.Id
            ResponseHeadersPolicyId: !Ref Headers
            """
        ),
    )
    bundle = load(path)["Site"]
    assert bundle.cache_policies == {
        "Cache": {"Name": "cache", "MinTTL": 0, "DefaultTTL": 60, "MaxTTL": 600}
    }
    assert bundle.origin_request_policies == {"Requests": {"Name": "requests"}}
    assert bundle.response_headers_policies == {"Headers": {"Name": "headers"}}
    assert bundle.where["cache_policies.Cache"] == (
        f"{path}: Resources.Cache.Properties.CachePolicyConfig"
    )


def test_managed_policy_ids_are_kept_as_they_are(tmp_path: Path) -> None:
    managed = "658327ea-f89d-4fab-a63d-7e88639e58f6"
    path = write(
        tmp_path,
        site(f"TargetOriginId: s3\nViewerProtocolPolicy: allow-all\nCachePolicyId: {managed}\n"),
    )
    bundle = load(path)["Site"]
    assert bundle.distribution_config["DefaultCacheBehavior"]["CachePolicyId"] == managed
    assert bundle.cache_policies == {}


STORE_WITH_IMPORT = """\
  Bucket:
    Type: AWS::S3::Bucket
  Store:
    Type: AWS::CloudFront::KeyValueStore
    Properties:
      Name: store
      ImportSource: {SourceType: S3, SourceArn: !Sub "arn:aws:s3:::${Bucket}/data/kvs.json"}
  Router:
    Type: AWS::CloudFront::Function
    Properties:
      Name: router
      FunctionCode: "function handler(e) { return e.request; }"
      FunctionConfig:
        Comment: r
        Runtime: cloudfront-js-2.0
        KeyValueStoreAssociations: [{KeyValueStoreARN: !GetAtt Store.Arn}]
"""

ROUTED = """\
TargetOriginId: s3
ViewerProtocolPolicy: allow-all
FunctionAssociations: [{EventType: viewer-request, FunctionARN: !Ref Router}]
"""


def test_import_source_found_beside_the_template(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "kvs.json").write_text('{"data": []}')
    path = write(tmp_path, site(ROUTED, STORE_WITH_IMPORT))
    bundle = load(path)["Site"]
    assert bundle.kvs["store"].data == tmp_path / "data" / "kvs.json"
    assert tmp_path / "data" / "kvs.json" in bundle.sources
    assert bundle.notes == [
        f"{path}: Resources.Store.Properties.ImportSource.SourceArn: KeyValueStore data read "
        f"from {tmp_path / 'data' / 'kvs.json'} (the S3 key beside the template)"
    ]


def test_import_source_not_local_is_noted(tmp_path: Path) -> None:
    path = write(tmp_path, site(ROUTED, STORE_WITH_IMPORT))
    bundle = load(path)["Site"]
    assert bundle.kvs["store"].data is None
    (note,) = bundle.notes
    assert note.startswith(f"{path}: Resources.Store.Properties.ImportSource.SourceArn: ")
    assert note.endswith("/data/kvs.json, which is not a local file: seed it with --kvs store=FILE")


def test_import_source_through_an_asset_resolver(tmp_path: Path) -> None:
    data = tmp_path / "asset.json"
    data.write_text('{"data": []}')
    seen: list[tuple[str, str]] = []

    def assets(bucket: str, key: str) -> Path | None:
        seen.append((bucket, key))
        return data

    path = write(tmp_path, site(ROUTED, STORE_WITH_IMPORT))
    bundle = load(path, assets=assets)["Site"]
    assert bundle.kvs["store"].data == data
    assert seen == [
        (
            load(path)["Site"].distribution_config["Origins"][0]["DomainName"].split(".s3.")[0],
            "data/kvs.json",
        )
    ]


def test_a_missing_asset_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, site(ROUTED, STORE_WITH_IMPORT))
    with pytest.raises(InputError) as caught:
        load(path, assets=lambda bucket, key: tmp_path / "gone.json")
    bucket = caught.value.args[0].split("s3://")[1].split("/")[0]
    assert str(caught.value) == (
        f"{path}: Resources.Store.Properties.ImportSource.SourceArn: s3://{bucket}/data/kvs.json: "
        f"the asset file {tmp_path / 'gone.json'} is missing"
    )


def test_cloudformation_spellings_become_the_apis(tmp_path: Path) -> None:
    text = template("x").replace(
        "        X: x\n",
        "        IPV6Enabled: false\n"
        "        CNAMEs: [a.example]\n"
        "        ViewerCertificate: {AcmCertificateArn: arn:cert, SslSupportMethod: sni-only}\n"
        "        Origins:\n"
        "          - Id: api\n"
        "            DomainName: api.example\n"
        "            CustomOriginConfig: {OriginProtocolPolicy: https-only, OriginSSLProtocols: [TLSv1.2]}\n"
        "        DefaultCacheBehavior:\n"
        "          TargetOriginId: api\n"
        "          ViewerProtocolPolicy: allow-all\n"
        "          ForwardedValues: {QueryString: false}\n",
    )
    config = load(write(tmp_path, text))["Site"].distribution_config
    assert config["IsIPV6Enabled"] is False
    assert config["Aliases"] == ["a.example"]
    assert config["ViewerCertificate"] == {
        "ACMCertificateArn": "arn:cert",
        "SSLSupportMethod": "sni-only",
    }
    assert config["Origins"][0]["CustomOriginConfig"]["OriginSslProtocols"] == ["TLSv1.2"]
    assert config["DefaultCacheBehavior"]["ForwardedValues"] == {
        "QueryString": False,
        "Cookies": {"Forward": "none"},
    }
    assert "IPV6Enabled" not in config
    assert "CNAMEs" not in config


# -- several distributions ---------------------------------------------------------------------------


def test_several_distributions_are_returned_in_order_and_named(tmp_path: Path) -> None:
    text = template("x") + (
        "  Other:\n    Type: AWS::CloudFront::Distribution\n"
        "    Properties: {DistributionConfig: {Enabled: false}}\n"
    )
    site, other = load_template(write(tmp_path, text))
    assert (site.name, other.name) == ("Site", "Other")
    assert other.distribution_config == {"Enabled": False}
    assert load_template(write(tmp_path, "Resources: {}\n")) == []


# -- the fixtures --------------------------------------------------------------------------------------


def fixture(name: str, **kwargs: Any) -> ImportBundle:
    found = load(FIXTURES / name, **kwargs)
    assert list(found) == ["Site"]
    return found["Site"]


@pytest.mark.parametrize("name", ["site.yaml", "site.json"])
def test_the_fixture_distribution(name: str) -> None:
    bundle = fixture(name)
    config = bundle.distribution_config
    assert config["Comment"] == "site (prod)"
    assert config["DefaultRootObject"] == "index.html"
    assert config["PriceClass"] == "PriceClass_All"
    assert config["Aliases"] == ["www.example.com"]
    assert config["ViewerCertificate"]["SSLSupportMethod"] == "sni-only"  # the API's spelling
    assert config["IsIPV6Enabled"] is True
    s3, api = config["Origins"]
    assert s3 == {
        "Id": "site",
        "DomainName": "site-site-123456789012.s3.us-east-1.amazonaws.com",
        "OriginAccessControlId": "SiteOac",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    assert api["DomainName"] == "api.example.com"
    assert api["OriginPath"] == "/v1"
    assert api["CustomHeaders"] == [
        {"HeaderName": "X-Origin-Verify", "HeaderValue": base64.b64encode(b"site:prod").decode()}
    ]
    default = config["DefaultCacheBehavior"]
    assert default["FunctionAssociations"] == [
        {"EventType": "viewer-request", "FunctionARN": function_arn("site-router")},
        {"EventType": "viewer-response", "FunctionARN": function_arn("site-stage-header")},
    ]
    api_behaviour, assets, legacy = config["CacheBehaviors"]
    assert [api_behaviour["PathPattern"], assets["PathPattern"], legacy["PathPattern"]] == [
        "/api/*",
        "/assets/*",
        "/legacy/*",
    ]
    assert api_behaviour["CachePolicyId"] == "ApiCachePolicy"
    assert api_behaviour["OriginRequestPolicyId"] == "ApiOriginRequestPolicy"
    assert api_behaviour["ResponseHeadersPolicyId"] == "SecurityHeaders"
    assert assets["ResponseHeadersPolicyId"] == "67f7725c-6f97-4210-82d7-5512b31e9d03"
    assert legacy["TargetOriginId"] == "api"
    assert legacy["ForwardedValues"]["QueryString"] is True
    assert legacy["ForwardedValues"]["Cookies"] == {"Forward": "none"}
    assert (legacy["MinTTL"], legacy["DefaultTTL"], legacy["MaxTTL"]) == (0, 300, 3600)
    (lambda_edge,) = legacy["LambdaFunctionAssociations"]
    assert lambda_edge["LambdaFunctionARN"].startswith(
        "arn:aws:lambda:us-east-1:123456789012:function:"
    )
    assert config["CustomErrorResponses"] == [
        {
            "ErrorCode": 403,
            "ResponseCode": 404,
            "ResponsePagePath": "/404.html",
            "ErrorCachingMinTTL": 10,
        },
        {"ErrorCode": 503, "ErrorCachingMinTTL": 0},
    ]
    assert config["Restrictions"] == {
        "GeoRestriction": {"RestrictionType": "blacklist", "Locations": ["KP", "IR"]}
    }

    router = bundle.functions["site-router"]
    assert router.runtime == "cloudfront-js-2.0"
    assert router.kvs == ["site-redirects"]
    assert router.code is not None
    assert "cf.kvs('" in router.code
    assert "`no short link for ${request.uri}`" in router.code
    header = bundle.functions["site-stage-header"]
    assert header.runtime == "cloudfront-js-1.0"
    assert header.auto_publish is False
    assert "{ value: 'prod' }" in (header.code or "")
    assert bundle.kvs["site-redirects"].data == FIXTURES / "kvs" / "redirects.json"
    assert bundle.cache_policies["ApiCachePolicy"]["DefaultTTL"] == 60
    assert bundle.origin_request_policies["ApiOriginRequestPolicy"]["CookiesConfig"] == {
        "CookieBehavior": "whitelist",
        "Cookies": ["session"],
    }
    assert bundle.response_headers_policies["SecurityHeaders"]["CustomHeadersConfig"] == {
        "Items": [{"Header": "X-Stage", "Value": "prod", "Override": True}]
    }
    assert bundle.sources == [FIXTURES / name, FIXTURES / "kvs" / "redirects.json"]
    base = f"{FIXTURES / name}: Resources.Site.Properties.DistributionConfig"
    assert bundle.where[""] == base
    assert bundle.where["Origins.Items.1"] == f"{base}.Origins[1]"
    assert bundle.where["CacheBehaviors.Items.2"] == f"{base}.CacheBehaviors[2]"
    assert bundle.where["DefaultCacheBehavior"] == f"{base}.DefaultCacheBehavior"
    assert bundle.where["CustomErrorResponses.Items.0"] == f"{base}.CustomErrorResponses[0]"


def test_the_fixture_with_the_staging_parameters() -> None:
    bundle = fixture("site.yaml", parameters={"Stage": "staging", "EnableGeoBlock": "false"})
    config = bundle.distribution_config
    assert "Aliases" not in config
    assert config["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
    assert config["Origins"][1]["OriginPath"] == "/v1-staging"
    assert config["PriceClass"] == "PriceClass_100"
    assert config["Restrictions"] == {"GeoRestriction": {"RestrictionType": "none"}}
    assert bundle.cache_policies["ApiCachePolicy"]["DefaultTTL"] == 0


def test_the_yaml_and_json_fixtures_agree() -> None:
    yaml_bundle, json_bundle = fixture("site.yaml"), fixture("site.json")
    assert yaml_bundle.distribution_config == json_bundle.distribution_config
    assert yaml_bundle.functions.keys() == json_bundle.functions.keys()
    for name, function in yaml_bundle.functions.items():
        assert function.code == json_bundle.functions[name].code
    assert yaml_bundle.cache_policies == json_bundle.cache_policies


# -- nested stacks -----------------------------------------------------------------------------------

PARENT = """\
Parameters:
  Domain: {Type: String, Default: example.com}
Resources:
  Storage:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: ./storage.yaml
  Cdn:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: nested/cdn.yaml
      Parameters:
        Bucket: !GetAtt Storage.Outputs.BucketName
        Aliases: [!Sub "www.${Domain}", !Ref Domain]
        Unused: dropped
"""

STORAGE = """\
Resources:
  Site:
    Type: AWS::S3::Bucket
Outputs:
  BucketName:
    Value: !Ref Site
"""

CDN = """\
Parameters:
  Bucket: {Type: String}
  Aliases: {Type: CommaDelimitedList}
Resources:
  Distribution:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        Aliases: !Ref Aliases
        Origins:
          - Id: s3
            DomainName: !Sub ${Bucket}.s3.${AWS::Region}.amazonaws.com
            S3OriginConfig: {}
        DefaultCacheBehavior: {TargetOriginId: s3, ViewerProtocolPolicy: allow-all}
"""


def test_nested_stacks_with_local_templates(tmp_path: Path) -> None:
    (tmp_path / "nested").mkdir()
    write(tmp_path, STORAGE, "storage.yaml")
    write(tmp_path, CDN, "nested/cdn.yaml")
    parent = write(tmp_path, PARENT)
    found = load(parent)
    assert list(found) == ["Cdn/Distribution"]
    bundle = found["Cdn/Distribution"]
    config = bundle.distribution_config
    assert config["Aliases"] == ["www.example.com", "example.com"]
    domain = config["Origins"][0]["DomainName"]
    assert domain.startswith("template-storage-")
    assert domain.endswith(".s3.us-east-1.amazonaws.com")
    assert bundle.sources == [tmp_path / "nested" / "cdn.yaml", parent]
    assert bundle.where[""] == (
        f"{tmp_path / 'nested' / 'cdn.yaml'}: Resources.Distribution.Properties.DistributionConfig"
    )


def test_a_nested_stack_output_that_does_not_exist(tmp_path: Path) -> None:
    (tmp_path / "nested").mkdir()
    write(tmp_path, STORAGE.replace("BucketName:", "Other:"), "storage.yaml")
    write(tmp_path, CDN, "nested/cdn.yaml")
    parent = write(tmp_path, PARENT)
    with pytest.raises(InputError) as caught:
        load(parent)
    assert str(caught.value) == (
        f"{tmp_path / 'storage.yaml'}: Outputs.BucketName: no such output (referred to by "
        "Resources.Cdn.Properties.Parameters.Bucket)"
    )


def test_a_nested_stack_in_s3_needs_an_asset_resolver(tmp_path: Path) -> None:
    url = "https://s3.us-east-1.amazonaws.com/my-artifacts/cdn.template.json"
    write(tmp_path, STORAGE, "storage.yaml")
    parent = write(tmp_path, PARENT.replace("nested/cdn.yaml", url))
    with pytest.raises(InputError) as caught:
        load(parent)
    assert str(caught.value) == (
        f"{parent}: Resources.Cdn.Properties.TemplateURL: {url}: the nested stack's template is "
        "not a local file (give the path to the template, as before `aws cloudformation package`)"
    )
    cdn = write(tmp_path, CDN, "cdn.yaml")
    seen: list[tuple[str, str]] = []

    def assets(bucket: str, key: str) -> Path:
        seen.append((bucket, key))
        return cdn

    assert list(load(parent, assets=assets)) == ["Cdn/Distribution"]
    assert seen == [("my-artifacts", "cdn.template.json")]


def test_a_missing_nested_template(tmp_path: Path) -> None:
    write(tmp_path, STORAGE, "storage.yaml")
    parent = write(tmp_path, PARENT)
    with pytest.raises(InputError) as caught:
        load(parent)
    assert str(caught.value) == (
        f"{parent}: Resources.Cdn.Properties.TemplateURL: the nested stack's template "
        f"{tmp_path / 'nested' / 'cdn.yaml'} is missing"
    )


def test_placeholders_where_the_converter_notes_the_feature_need_no_note(tmp_path: Path) -> None:
    resources = RESOURCES + "  Acl:\n    Type: AWS::WAFv2::WebACL\n"
    path = write(tmp_path, template("x", resources).replace("X: x", "WebACLId: !GetAtt Acl.Arn"))
    bundle = load(path)["Site"]
    assert bundle.distribution_config["WebACLId"].startswith("acl-arn-")
    assert bundle.notes == []
