"""``ImportBundle`` (the CloudFront API's shapes) → the ``Distribution`` model serve runs.

Every front-end (CloudFormation/CDK, Terraform, the API's DistributionConfig JSON) ends here, so
the meaning of each API member is decided once:

- origins: custom (``CustomOriginConfig``: the scheme and port from ``OriginProtocolPolicy`` and
  ``HTTPPort``/``HTTPSPort``), S3 (``S3OriginConfig``, an ``OriginAccessControlId`` or a bucket
  REST endpoint as ``DomainName``: ``Origin.s3``), VPC; the URL is the deployed one and is reached
  here only through ``[origins_local]`` (``overlay.py``);
- origin groups, ordered and default cache behaviours, function associations (ARN → function
  name), policies (a managed policy's id, or a custom policy of the bundle), custom error
  responses, the default root object, the geographic restriction, aliases;
- legacy cache settings (``ForwardedValues`` + ``MinTTL``/``DefaultTTL``/``MaxTTL``): the cache
  policy and origin request policy CloudFront's documented semantics give (``_legacy_policies``);
- functions (inline code written to files under the caller's ``workdir``) and key value stores
  (``items`` written there as an import file).

What the model does not emulate becomes one line of ``Distribution.notes`` ("accepted, not
emulated: …" or "not emulated: requests will differ because …"); nothing is dropped silently.
Every problem is collected and raised together as one ``InputError``, each line naming where it
was written (``bundle.where``) and the property path under it.

The modules, one job each:

- ``converter``: ``to_distribution`` and ``Imported``, the conversion as a whole;
- ``state``: what a conversion keeps while it runs (the base of the converter's parts);
- ``shape``: reading the API's values (``{Quantity, Items}``, strings for numbers and booleans)
  with their property paths, and the problems found;
- ``notes``: the notes of what is not emulated;
- ``origins``: origins and origin groups;
- ``behaviors``: cache behaviours and their function associations;
- ``legacy``: a behaviour's cache settings, legacy ``ForwardedValues``/TTLs → policies;
- ``policies``: the bundle's custom policies (cache, origin request, response headers) and
  references to policies;
- ``functions``: functions and key value stores, their files under ``workdir``;
- ``distribution``: the distribution-wide members (custom errors, root object, geo restriction).
"""

from edgesim.distribution.origins import is_s3_rest_endpoint
from edgesim.importers.apishape.converter import Imported, to_distribution

__all__ = ["Imported", "is_s3_rest_endpoint", "to_distribution"]
