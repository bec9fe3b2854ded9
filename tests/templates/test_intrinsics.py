"""Intrinsic functions evaluated locally, and placeholders (with a warning naming the key) for what
only a deployed stack knows."""

from __future__ import annotations

import base64

from lambdatui.templates.intrinsics import NO_VALUE, Resolver


def resolver(**kw):
    warnings: list[tuple[str, str]] = []
    r = Resolver(
        {"Stage": "prod", "Subnets": ["s-1", "s-2"], "AWS::Region": "eu-west-1", "AWS::AccountId": "111122223333", "AWS::StackName": "shop"},
        mappings={"Sizes": {"prod": {"Memory": 1024}}},
        conditions={"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}, "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
                    "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Or": [{"Condition": "IsDev"}, True]}]}},
        warn=lambda where, message: warnings.append((where, message)),
        **kw,
    )
    return r, warnings


def test_sub_fills_parameters_pseudo_parameters_and_its_own_variables_and_keeps_escaped_literals():
    r, warnings = resolver()
    value = {"Fn::Sub": ["${AWS::StackName}-${Stage}-${Extra} ${!Literal} arn:${AWS::Region}:${AWS::AccountId}", {"Extra": {"Ref": "Stage"}}]}
    assert r.resolve(value, "F.X") == "shop-prod-prod ${Literal} arn:eu-west-1:111122223333"
    assert warnings == []


def test_join_select_split_findinmap_base64():
    r, _ = resolver()
    assert r.resolve({"Fn::Join": ["|", {"Ref": "Subnets"}]}, "k") == "s-1|s-2"
    assert r.resolve({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}, "k") == "b"
    assert r.resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}, "k") == 1024
    assert r.resolve({"Fn::FindInMap": ["Sizes", "dev", "Memory", {"DefaultValue": 128}]}, "k") == 128
    assert base64.b64decode(r.resolve({"Fn::Base64": {"Fn::Sub": "${Stage}"}}, "k")) == b"prod"


def test_conditions_if_equals_and_or_not():
    r, _ = resolver()
    assert r.condition("IsProd") and not r.condition("IsDev") and r.condition("Both")
    assert r.resolve({"Fn::If": ["IsDev", "a", "b"]}, "k") == "b"


def test_ref_no_value_removes_the_property():
    r, _ = resolver()
    assert r.resolve({"A": {"Fn::If": ["IsDev", 1, {"Ref": "AWS::NoValue"}]}, "B": 2}, "k") == {"B": 2}
    assert r.resolve({"Ref": "AWS::NoValue"}, "k") is NO_VALUE


def test_getatt_importvalue_and_resource_refs_become_placeholders_with_a_warning_naming_the_key():
    r, warnings = resolver()
    env = r.resolve({"TABLE": {"Fn::GetAtt": ["Table", "Arn"]}, "VPC": {"Fn::ImportValue": "shared-vpc"},
                     "BUCKET": {"Ref": "Uploads"}, "SUB": {"Fn::Sub": "x-${Table.Arn}"}}, "Fn.Environment.Variables")
    assert env == {
        "TABLE": "<unresolved !GetAtt Table.Arn>",
        "VPC": "<unresolved !ImportValue shared-vpc>",
        "BUCKET": "<unresolved !Ref Uploads>",
        "SUB": "x-<unresolved !GetAtt Table.Arn>",
    }
    where = [w for w, _ in warnings]
    assert where == ["Fn.Environment.Variables.TABLE", "Fn.Environment.Variables.VPC", "Fn.Environment.Variables.BUCKET", "Fn.Environment.Variables.SUB"]
    assert "!GetAtt Table.Arn" in warnings[0][1]


def test_a_parameter_without_value_says_how_to_give_one():
    r, warnings = resolver(unset={"ApiKey": "has no value (no Default): give --parameter-overrides ApiKey=VALUE"})
    assert r.resolve({"Ref": "ApiKey"}, "Fn.Environment.Variables.KEY") == "<unresolved !Ref ApiKey>"
    assert "--parameter-overrides ApiKey=VALUE" in warnings[0][1]


def test_malformed_and_unknown_intrinsics_never_raise():
    r, warnings = resolver()
    assert r.resolve({"Fn::Select": ["x", "not a list"]}, "k").startswith("<unresolved !Select")
    assert r.resolve({"Fn::Cidr": ["10.0.0.0/16", 2, 8]}, "k").startswith("<unresolved !Cidr")
    assert r.resolve({"Fn::If": ["Undefined", 1, 2]}, "k") == 2
    assert len(warnings) == 3
