"""``data-platform catalog --out DIR`` replaces the folder it writes whole: only ever a folder it
wrote itself, or an empty one, never someone's files."""

from __future__ import annotations

import pytest

from data_platform.catalog.collect import Catalog
from data_platform.catalog.site import CatalogError, write_site

pytestmark = pytest.mark.unit


def empty_catalog() -> Catalog:
    return Catalog(products={}, glossary=[], cost=[], currency="USD", built_at="2026-12-05 12:00 UTC", skipped=[])


def test_a_folder_holding_other_files_is_refused_and_left_as_it_was(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CatalogError, match="not a catalog this command wrote"):
        write_site(empty_catalog(), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_its_own_previous_build_is_replaced_whole(tmp_path):
    out = tmp_path / "catalog"
    write_site(empty_catalog(), out)
    (out / "products" / "gone.html").write_text("a product since removed")
    index = write_site(empty_catalog(), out)
    assert index == out / "index.html" and index.exists() and not (out / "products" / "gone.html").exists()


def test_an_empty_folder_is_written(tmp_path):
    assert write_site(empty_catalog(), tmp_path).read_text().startswith("<!doctype html>")
