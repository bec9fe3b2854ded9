"""lambdatui: a terminal dashboard for AWS Lambda, with a local executor that behaves like Lambda."""

__version__ = "0.1.0"
