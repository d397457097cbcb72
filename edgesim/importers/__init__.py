"""Import the distribution a user deploys (CloudFormation/SAM, a CDK cloud assembly, Terraform,
or the API's DistributionConfig JSON) into the one ``Distribution`` model serve runs.

Every front-end (``cloudformation``, ``cdk``, ``terraform``, ``distconfig``) resolves its own
language (intrinsics, HCL expressions, assets) into :class:`~edgesim.importers.bundle.ImportBundle`
objects in the CloudFront API's shape; ``apishape`` turns a bundle into a ``Distribution``;
``overlay`` maps its origins to local URLs or directories; ``load`` is the entry point that picks
the front-end and applies the command line's flags (``load_distribution``); ``totoml`` writes the
equivalent edgesim.toml. docs/import.md is the user's guide.
"""
