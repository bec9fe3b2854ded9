"""Deploy: package local functions deterministically and create or update them on AWS Lambda."""
