"""``data-platform draft-contract``: a stream's contract drafted from what its source sends (the
discovered schema and a sample of rows), loadable as written, for its owners to review; and a
contract that names no team is owned by its domain (owners and channel written once, in
``domain.yaml``)."""

from __future__ import annotations

import pytest
import yaml

from data_platform.cli import main
from data_platform.domains import load_domain
from data_platform.governance.contract_draft import DraftError, draft_contracts, write_drafts
from data_platform.scaffold import create_domain
from data_platform.settings import resolve_settings

from ..support.fixture_domains import platform_dbt_parts

PEOPLE = """\
person_id,contact,first_name,signed_up_on,score,active,postcode
1,ana@example.org,Ana,2026-01-05,3.5,true,01234
2,bo@example.org,Bo,2026-01-06,4,false,04567
3,cy@example.org,Cy,2026-01-07,,TRUE,07890
"""


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    platform_dbt_parts(tmp_path / "dbt")
    env = {
        "DATA_PLATFORM_DOMAINS_DIR": str(tmp_path / "domains"),
        "DATA_PLATFORM_DBT_DIR": str(tmp_path / "dbt"),
        "DATA_PLATFORM_DATA_DIR": str(tmp_path / "data"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = resolve_settings(env)
    create_domain("crm", settings)
    return settings


def drafted(settings) -> dict:
    folder = settings.domains_dir / "crm"
    (folder / "contracts" / "raw_crm.items.odcs.yaml").unlink()
    (drafts,) = [draft_contracts(folder, "crm_files", settings).items()]
    ((path, text),) = drafts
    return {"path": path, "text": text, "document": yaml.safe_load(text)}


def columns(document: dict) -> dict[str, dict]:
    return {p["name"]: p for p in document["schema"][0]["properties"]}


def test_the_scaffolds_csv_is_drafted_with_its_types_key_and_cursor(scratch):
    draft = drafted(scratch)
    assert draft["path"] == scratch.domains_dir / "crm" / "contracts" / "raw_crm.items.odcs.yaml"
    found = columns(draft["document"])
    assert {n: c["logicalType"] for n, c in found.items()} == {
        "item_id": "integer",
        "item_name": "string",
        "price_eur": "number",
        "updated_at": "timestamp",
    }
    assert found["item_id"].get("primaryKey") is True and "primaryKey" not in found["price_eur"]
    assert draft["document"]["slaProperties"][0]["element"] == "items.updated_at", "the stream's cursor"


def test_a_draft_loads_as_written_and_the_domain_owns_it(scratch):
    write_drafts({(d := drafted(scratch))["path"]: d["text"]})
    stream = load_domain(scratch.domains_dir / "crm", scratch).connections[0].streams[0]
    assert stream.primary_key == ("item_id",)
    assert stream.owners == ("team:crm", "crm-data@example.com"), "owners from domain.yaml: the draft names no team"
    assert stream.contract.slack_channel == "#crm-data-alerts"


def test_text_columns_are_narrowed_from_the_sample_and_pii_is_guessed_from_names_and_values(scratch):
    folder = scratch.domains_dir / "crm"
    (folder / "sample_data" / "items.csv").write_text(PEOPLE)
    connections = folder / "connections.yaml"
    connections.write_text(connections.read_text().replace("cursor_field: updated_at", "cursor_field: signed_up_on"))
    found = columns(drafted(scratch)["document"])
    assert {n: c["logicalType"] for n, c in found.items()} == {
        "person_id": "integer", "contact": "string", "first_name": "string", "signed_up_on": "date", "score": "number",
        "active": "boolean", "postcode": "string",
    }  # fmt: skip
    assert found["person_id"].get("primaryKey") is True, "postcode is text: its leading zeros are kept"
    assert found["contact"]["classification"] == "pii" and found["first_name"]["classification"] == "pii"
    assert found["postcode"]["classification"] == "pii" and "classification" not in found["score"]
    assert found["active"]["required"] is True and "required" not in found["score"], "score is missing in one row"


def test_a_draft_carries_no_value_of_any_record(scratch):
    folder = scratch.domains_dir / "crm"
    (folder / "sample_data" / "items.csv").write_text(PEOPLE)
    connections = folder / "connections.yaml"
    connections.write_text(connections.read_text().replace("cursor_field: updated_at", "cursor_field: signed_up_on"))
    text = drafted(scratch)["text"]
    assert not [v for v in ("ana@example.org", "Ana", "Bo", "01234", "3.5") if v in text]


def test_an_existing_contract_is_not_replaced_without_force(scratch):
    folder = scratch.domains_dir / "crm"
    existing = folder / "contracts" / "raw_crm.items.odcs.yaml"
    drafts = draft_contracts(folder, "crm_files", scratch)
    with pytest.raises(DraftError, match="already exist"):
        write_drafts(drafts)
    assert "DRAFTED" not in existing.read_text()


def test_an_unknown_connection_is_named_with_the_ones_there_are(scratch, capsys):
    assert main(["draft-contract", "crm", "nope"]) == 2
    assert "no connection 'nope' (connections: crm_files)" in capsys.readouterr().err


def test_a_broken_domain_is_one_line_naming_the_file_not_a_traceback(scratch, capsys):
    domain_file = scratch.domains_dir / "crm" / "domain.yaml"
    domain_file.write_text(domain_file.read_text() + "colour: blue\n")
    assert main(["run"]) == 2
    error = capsys.readouterr().err
    assert "unknown key(s) colour" in error and str(domain_file) in error and "Traceback" not in error


def test_a_csv_connection_takes_its_types_key_and_cursor_from_the_contract_written_nowhere_else(scratch):
    folder = scratch.domains_dir / "crm"
    assert "types:" not in (folder / "connections.yaml").read_text()
    (connection,) = load_domain(folder, scratch).connections
    assert connection.embedded_source.config["streams"] == {
        "items": {
            "cursor_field": "updated_at",
            "primary_key": ["item_id"],
            "types": {"item_id": "integer", "item_name": "string", "price_eur": "number", "updated_at": "timestamp_with_timezone"},
        }
    }
