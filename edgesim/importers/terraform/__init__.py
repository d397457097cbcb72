"""Terraform front-end: ``.tf`` configurations (with their modules) and ``terraform show -json``.

``load_terraform(path)`` returns one :class:`TerraformBundle` per ``aws_cloudfront_distribution``
instance, named by its resource address (``aws_cloudfront_distribution.site``,
``module.cdn.aws_cloudfront_distribution.this[0]``). Terraform's snake_case blocks are mapped to
the API's ``DistributionConfig`` members; functions, key value stores and custom policies the
distribution uses come along, every reference resolved.

HCL is parsed by python-hcl2 and evaluated by :mod:`edgesim.importers.terraform.expressions`
(variables with ``-var``/``.tfvars`` values, locals, references between resources, managed
policies looked up by name, ``dynamic`` blocks, static ``count``/``for_each``, local modules and
the registry modules ``terraform init`` put under ``.terraform/modules``). A value only AWS
knows after apply that does not matter locally (a certificate ARN, a WAF ACL) is kept as
``<unresolved …>`` with a note; one that matters (an origin's domain, a policy id, function
code) is an InputError naming the file, the resource address and the attribute path.

The modules, evaluator first:

- ``values``: values, unknowns, errors, scope; conversions, equality, indexing
- ``syntax``: parsing with python-hcl2 and reading its Lark tree
- ``templates``: template strings, heredocs and template files split into pieces
- ``expressions``: evaluating expressions (and rendering templates)
- ``functions``: the built-in functions (strings, collections, encoding, filesystem)
- ``variables``: type constraints and constant contexts
- ``config``: configuration files as blocks, per module directory
- ``project``: the files of one import and the root module's variable values
- ``module``: module instances resolving names, resources, child modules
- ``resources``: resource instances and the attributes AWS would compute
- ``nodes``, ``mapper``: reading blocks for the API shape
- ``distribution``, ``policies``: the API shape of each CloudFront resource kind
- ``assemble``: one bundle per distribution, with its functions, stores and policies
- ``loader``: ``load_terraform`` and the configuration assembler
- ``show_json``: ``terraform show -json`` plans and states
"""

from __future__ import annotations

from edgesim.importers.terraform.assemble import TerraformBundle
from edgesim.importers.terraform.loader import load_terraform
from edgesim.importers.terraform.project import Project as _Project  # noqa: F401 (tests use it)
from edgesim.importers.terraform.resources import kvs_arn

__all__ = ["TerraformBundle", "kvs_arn", "load_terraform"]
