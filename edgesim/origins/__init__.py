"""Local stand-ins for the origins a CloudFront distribution reaches: each is a small HTTP
server started on loopback, so the edge reaches it like any other HTTP origin."""

from edgesim.origins.s3dir import S3DirectoryOrigin

__all__ = ["S3DirectoryOrigin"]
