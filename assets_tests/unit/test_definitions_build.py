"""Building the definitions pauses Python's cyclic garbage collector, and always gives it back as it was."""

from __future__ import annotations

import gc

import pytest

from data_platform import definitions
from data_platform.settings import resolve_settings


@pytest.fixture
def collector_state_during_build(monkeypatch) -> list[bool]:
    seen: list[bool] = []
    build_resources = definitions.build_resources

    def spying(*args, **kwargs):
        seen.append(gc.isenabled())
        return build_resources(*args, **kwargs)

    monkeypatch.setattr(definitions, "build_resources", spying)
    return seen


def test_the_collector_is_paused_during_the_build_and_resumes_after(collector_state_during_build):
    assert gc.isenabled()
    definitions.build_definitions(resolve_settings({}), domains=[])
    assert collector_state_during_build == [False]
    assert gc.isenabled()


def test_the_collector_resumes_when_the_build_fails():
    with pytest.raises(AttributeError):
        definitions.build_definitions(resolve_settings({}), domains=[object()])  # type: ignore[list-item]
    assert gc.isenabled()


def test_a_collector_the_caller_had_turned_off_stays_off(collector_state_during_build):
    gc.disable()
    try:
        definitions.build_definitions(resolve_settings({}), domains=[])
        assert not gc.isenabled()
    finally:
        gc.enable()
