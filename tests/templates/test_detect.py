"""Templates are told from lambdatui.yaml by content, and found in SAM's order when no --config is given."""

from __future__ import annotations

import json
import textwrap

import pytest

from lambdatui.config import find_config, load_config
from lambdatui.templates.detect import is_template
from lambdatui.templates.intrinsics import load_document


def test_sam_template_under_any_name_is_detected_by_its_transform(project):
    root = project("python-hello")
    renamed = root / "stack-definition.conf"
    (root / "template.yaml").rename(renamed)
    config = load_config(renamed)
    assert list(config.local.functions) == ["HelloWorldFunction"]


def test_cloudformation_json_without_transform_is_detected_by_format_version(tmp_path):
    (tmp_path / "code").mkdir()
    (tmp_path / "stack.json").write_text(json.dumps({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Code": {"ZipFile": "def handler(e, c):\n    return 7\n"}, "Handler": "index.handler", "Runtime": "python3.12"}}},
    }))
    assert load_config(tmp_path / "stack.json").local.functions["Fn"].handler == "index.handler"


def test_resources_of_aws_types_alone_make_a_template_and_lambdatui_yaml_is_not_one():
    assert is_template({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}})
    assert not is_template({"local": {"functions": {}}})
    assert not is_template({"Resources": {"Q": {"Type": "Something::Else"}}})


def test_yaml_short_form_intrinsics_are_read_as_their_long_forms():
    doc = load_document(textwrap.dedent("""\
        AWSTemplateFormatVersion: 2010-09-09
        A: !Ref Stage
        B: !Sub "${AWS::Region}-x"
        C: !GetAtt Table.Arn
        D: !If [IsProd, 1, 2]
        E: !Join [",", [a, b]]
        F: !Select [0, !Split [",", "a,b"]]
        G: !FindInMap [M, K, V]
        H: !ImportValue shared
        I: !Base64 text
        J: !Equals [a, b]
        K: !Condition IsProd
        L: !GetAtt [Table, StreamArn]
        """))
    assert doc == {
        "AWSTemplateFormatVersion": "2010-09-09",  # text, not a date, as CloudFormation reads it
        "A": {"Ref": "Stage"},
        "B": {"Fn::Sub": "${AWS::Region}-x"},
        "C": {"Fn::GetAtt": ["Table", "Arn"]},
        "D": {"Fn::If": ["IsProd", 1, 2]},
        "E": {"Fn::Join": [",", ["a", "b"]]},
        "F": {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
        "G": {"Fn::FindInMap": ["M", "K", "V"]},
        "H": {"Fn::ImportValue": "shared"},
        "I": {"Fn::Base64": "text"},
        "J": {"Fn::Equals": ["a", "b"]},
        "K": {"Condition": "IsProd"},
        "L": {"Fn::GetAtt": ["Table", "StreamArn"]},
    }


def test_lookup_order_lambdatui_yaml_then_built_template_then_template_yaml_then_yml(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "template.yml").write_text("Resources: {}\n")
    assert find_config() == tmp_path / "template.yml"
    (tmp_path / "template.yaml").write_text("Resources: {}\n")
    assert find_config() == tmp_path / "template.yaml"
    built = tmp_path / ".aws-sam" / "build" / "template.yaml"
    built.parent.mkdir(parents=True)
    built.write_text("Resources: {}\n")
    assert find_config() == built  # SAM prefers what `sam build` wrote
    (tmp_path / "lambdatui.yaml").write_text("local: {}\n")
    assert find_config() == tmp_path / "lambdatui.yaml"


def test_built_template_resolves_code_against_the_build_folder_and_reads_samconfig_from_the_project(project):
    root = project("orders")
    build = root / ".aws-sam" / "build"
    build.mkdir(parents=True)
    text = (root / "template.yaml").read_text().replace("src/create_order/", "CreateOrderFunction").replace("src/report/", "ReportFunction")
    text = text.replace("layers/shared/", "SharedLayer")
    (build / "template.yaml").write_text(text)
    for name, source in (("CreateOrderFunction", "src/create_order"), ("ReportFunction", "src/report"), ("SharedLayer", "layers/shared")):
        (build / name).mkdir()
        for f in (root / source).rglob("*"):
            if f.is_file():
                (build / name / f.relative_to(root / source)).parent.mkdir(parents=True, exist_ok=True)
                (build / name / f.relative_to(root / source)).write_bytes(f.read_bytes())
    functions = load_config(build / "template.yaml").local.functions
    assert functions["CreateOrderFunction"].code == str(build / "CreateOrderFunction")
    assert functions["CreateOrderFunction"].layers == (str(build / "SharedLayer"),)
    # samconfig.toml is the project's (two folders up), as `sam` reads it after a build.
    assert functions["CreateOrderFunction"].environment["LOG_LEVEL"] == "DEBUG"


@pytest.mark.parametrize("content", ["Resources: [1, 2]\n", "AWSTemplateFormatVersion: '2010-09-09'\nResources: {Fn: {Type: AWS::Lambda::Function, Properties: !Ref [}}\n"])
def test_a_broken_template_is_a_config_error_not_a_traceback(tmp_path, content):
    from lambdatui.config import ConfigError

    path = tmp_path / "template.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value)
