"""edgesim: a local emulator of Amazon CloudFront Functions and CloudFront KeyValueStore."""

__version__ = "0.1.0"
