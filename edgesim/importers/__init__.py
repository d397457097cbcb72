"""Import the distribution a user deploys (CloudFormation/SAM, a CDK cloud assembly, Terraform,
or the API's DistributionConfig JSON) into the one ``Distribution`` model serve runs.

Every front-end resolves its own language (intrinsics, HCL expressions, assets) into one
:class:`~edgesim.importers.bundle.ImportBundle` in the CloudFront API's shape; ``apishape``
turns a bundle into a ``Distribution``; ``overlay`` maps its origins to local URLs or
directories; ``totoml`` writes the equivalent edgesim.toml.
"""
