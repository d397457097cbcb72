"""CloudFormation and SAM templates (YAML or JSON) → one ``ImportBundle`` per distribution.

Only what the distributions need is evaluated: each ``AWS::CloudFront::Distribution``'s
``DistributionConfig``, and through its references the functions, stores, policies and buckets it
uses. A value another resource would only have once deployed (a bucket's generated name, a
policy's id, a store's ARN) is made up deterministically from the stack name and logical id, in
the shape AWS gives it, so that the same template always imports the same way:

- ``AWS::CloudFront::Function``: ``FunctionARN`` is ``bundle.function_arn(Name)`` and
  ``functions[Name]`` holds its code.
- ``AWS::CloudFront::KeyValueStore``: ``Arn`` is ``arn:aws:cloudfront::<account>:key-value-store/
  <uuid>``; ``kvs[Name]`` holds the file its ``ImportSource`` points at (see ``AssetResolver``).
- ``AWS::CloudFront::CachePolicy`` / ``OriginRequestPolicy`` / ``ResponseHeadersPolicy``,
  ``OriginAccessControl`` / ``CloudFrontOriginAccessIdentity``: the ``Id`` is the logical id, and
  ``cache_policies[<logical id>]`` (and siblings) hold the policy config.
- ``AWS::S3::Bucket``: its ``BucketName``, else ``<stack>-<logical id>-<hash>`` lower-cased as
  CloudFormation would generate it; ``RegionalDomainName`` is ``<name>.s3.us-east-1.amazonaws.com``.
- Any other resource type gives a placeholder for ``Ref`` / ``Fn::GetAtt`` (an origin's domain
  behind an API, a load balancer or a function URL is mapped to a local origin anyway), and a note.

Pseudo parameters: ``AWS::Region`` is ``us-east-1``, ``AWS::AccountId`` ``123456789012``,
``AWS::StackName`` the stack name (the template file's stem unless given), ``AWS::Partition``
``aws``, ``AWS::URLSuffix`` ``amazonaws.com``.

Every error is an ``InputError`` that names the file, the property path and the expression:
``template.yaml: Resources.Site.Properties.DistributionConfig.Origins[0].DomainName: !GetAtt
Bucket.Nope: unknown attribute …``.

The modules, reading first:

- ``cfn_yaml``: CloudFormation's YAML (PyYAML's safe loader with the short forms)
- ``template``: reading a template file (JSON or YAML) into its mapping
- ``values``: ``AWS::NoValue``, scalars as text, list members, expressions in messages
- ``stack``: ``Stack``, one template being read (sections, property values, errors, nested
  stacks), and ``open_stack``
- ``parameters``: pseudo parameters and the template's parameter values
- ``intrinsics``: ``Ref`` and the ``Fn::*`` functions
- ``conditions``: the template's conditions and the condition functions
- ``attributes``: ``Ref``/``Fn::GetAtt`` of the resource types edgesim models
- ``placeholders``: stand-ins for other resources' deployed values (SAM's implicit ones too)
- ``assets``: ``AssetResolver`` and a KeyValueStore's ``ImportSource`` file
- ``distribution``: one distribution → an ``ImportBundle`` in the API's shape, with its policies
- ``functions``: the functions and key value stores a distribution uses
- ``loading``: ``load_template`` and ``bundles``, every distribution of a stack and its nested
  stacks
"""

from __future__ import annotations

from edgesim.importers.cloudformation.assets import AssetResolver
from edgesim.importers.cloudformation.loading import bundles, load_template
from edgesim.importers.cloudformation.parameters import PARTITION, REGION, URL_SUFFIX
from edgesim.importers.cloudformation.stack import Stack, open_stack
from edgesim.importers.cloudformation.template import read_template

__all__ = [
    "PARTITION",
    "REGION",
    "URL_SUFFIX",
    "AssetResolver",
    "Stack",
    "bundles",
    "load_template",
    "open_stack",
    "read_template",
]
