"""The data contracts (ODCS v3): one per source stream, valid, complete, and mistakes named."""

import copy

import pytest
import yaml

from data_platform.governance.contracts import ContractError, load_contract

from ..support.example import contract_file, contract_files, example_connections


@pytest.fixture(scope="module")
def connections():
    return example_connections()


def test_every_source_stream_has_an_odcs_contract_with_owner_types_pii_and_sla(connections):
    for connection in connections:
        for stream in connection.streams:
            contract = stream.contract
            assert contract is not None and contract.path.name == f"{connection.destination_namespace}.{stream.name}.odcs.yaml"
            assert contract.owners[0].startswith("team:") and any("@" in o for o in contract.owners)
            assert contract.slack_channel and contract.email, "breaches reach the owner somewhere"
            assert [c.name for c in contract.columns] == list(stream.column_names)
            assert contract.primary_key == stream.primary_key and all(contract.column(k).required for k in stream.primary_key)
            assert contract.freshness_error_minutes > contract.freshness_warn_minutes > 0
            assert all(c.classification in ("pii", "internal") for c in contract.columns)


def test_personal_data_is_classified(connections):
    customers = next(c for c in connections if c.name == "shop_db").stream("customers").contract
    assert {c.name for c in customers.columns if c.is_pii} == {"email", "phone", "first_name", "last_name"}
    assert customers.column("email").required and customers.column("country_code").valid_values == ("FR", "ES", "IT", "DE", "GB")


def test_contracts_are_valid_against_the_odcs_json_schema_and_round_trip_through_its_model():
    from open_data_contract_standard.model import OpenDataContractStandard

    paths = contract_files()
    assert len(paths) == 8
    for path in paths:
        document = yaml.safe_load(path.read_text())
        model = OpenDataContractStandard(**document)
        assert yaml.safe_load(model.to_yaml())["schema"][0]["name"] == document["schema"][0]["name"]
        load_contract(path)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("apiVersion"), "not a valid ODCS v3 contract at (top level): 'apiVersion' is a required property"),
        (
            lambda d: d["schema"][0]["properties"][1].update(logicalType="decimal"),
            "not a valid ODCS v3 contract at schema/0/properties/1/logicalType",
        ),
        (lambda d: d["schema"][0]["properties"][1].update(logicalType="array"), "property 'email': logicalType 'array' cannot be loaded"),
        (
            lambda d: d["schema"][0]["properties"][1].update(quality=[{"metric": "duplicateValues", "mustBe": 0}]),
            "property 'email': quality rule 'duplicateValues' is not enforced by this platform",
        ),
        (
            lambda d: d["schema"][0]["properties"][0].update(logicalTypeOptions={"pattern": "^C"}),
            "schema/0/properties/0/logicalTypeOptions: Additional properties are not allowed",
        ),
        (
            lambda d: d["schema"][0]["properties"][1].update(logicalTypeOptions={"pattern": "["}),
            "property 'email': pattern '[' is not a regular expression",
        ),
        (lambda d: d["team"].update(members=[{"username": "bob", "role": "owner"}]), "team member 'bob' must be an email address"),
        (
            lambda d: d["slaProperties"][0].update(element="customers.last_login"),
            "latency element 'customers.last_login' is not a property of customers",
        ),
        (lambda d: d.update(slaProperties=[]), "needs exactly one latency SLA"),
    ],
)
def test_mistakes_in_a_contract_are_named(tmp_path, mutate, message):
    document = copy.deepcopy(yaml.safe_load((contract_file("raw_shop.customers.odcs.yaml")).read_text()))
    document["slaProperties"][0]["element"] = "customers.updated_at"
    mutate(document)
    path = tmp_path / "raw_shop.customers.odcs.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ContractError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")) as raised:
        load_contract(path)
    assert path.name in str(raised.value)


def test_a_contract_validated_once_is_remembered_by_content_and_a_changed_one_is_validated_again(tmp_path):
    validated = tmp_path / "validated"
    path = tmp_path / "raw_shop.customers.odcs.yaml"
    path.write_text(contract_file("raw_shop.customers.odcs.yaml").read_text())
    load_contract(path, validated)
    assert len(list(validated.iterdir())) == 1, "the passing content is remembered"
    document = yaml.safe_load(path.read_text())
    document["apiVersion"] = 3  # breaks the ODCS schema (a string is required)
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ContractError, match="not a valid ODCS v3 contract at apiVersion"):
        load_contract(path, validated)
    assert len(list(validated.iterdir())) == 1, "a failing content is not remembered"
