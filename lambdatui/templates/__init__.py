"""AWS SAM and CloudFormation templates (and the CDK's `cdk.out`) as lambdatui's configuration:
`load_template` turns a template into the same `Function`s a lambdatui.yaml declares, named by
their logical ids, so that the rest of lambdatui does not know where they came from.

The steps: read the document (intrinsics.load_document), take parameter values (`Default`,
samconfig.toml, `--parameter-overrides`: params), transform SAM into CloudFormation with AWS's
own translator (sam), read each `AWS::Lambda::Function` (cloudformation), override environment
variables from `--env-vars`, and turn event sources into triggers (events). What cannot apply
locally is a warning on the function it concerns (`Function.warnings`, shown by `list --json`)
and on stderr through the `lambdatui.templates` logger, never a failure; a document that is not a
template, or that SAM rejects, is a ConfigError.
"""

from __future__ import annotations

# Light on purpose: the config loader imports this package on every command; the loader itself
# (lambdatui.templates.loader) is imported only when a template is opened.
from .detect import find_template, has_template_keys, is_template
from .params import TemplateOptions, options_from_args, set_options

__all__ = ["TemplateOptions", "find_template", "has_template_keys", "is_template", "options_from_args", "set_options"]
