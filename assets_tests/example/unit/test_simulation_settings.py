"""The example's simulator reads its own knobs, refusing what the machine cannot do, naming the variable."""

import pytest

from data_platform.settings import SettingsError, resolve_settings
from marketplace_example.settings import simulation_settings


def test_the_defaults_are_a_month_at_scale_one():
    assert simulation_settings({}) == type(simulation_settings({}))(seed=42, scale=1.0, history_days=30, dirt="default")


def test_the_platforms_settings_know_nothing_of_the_simulation():
    assert not [name for name in vars(resolve_settings({})) if "sim" in name.lower()]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"DATA_PLATFORM_SIM_SEED": "forty-two"}, "DATA_PLATFORM_SIM_SEED='forty-two' is not a whole number"),
        ({"DATA_PLATFORM_SIM_SCALE": "nan"}, "DATA_PLATFORM_SIM_SCALE='nan' is not a positive finite number"),
        ({"DATA_PLATFORM_SIM_SCALE": "inf"}, "DATA_PLATFORM_SIM_SCALE='inf' is not a positive finite number"),
        ({"DATA_PLATFORM_SIM_SCALE": "0"}, "DATA_PLATFORM_SIM_SCALE='0' is not a positive finite number"),
        ({"DATA_PLATFORM_SIM_HISTORY_DAYS": "0"}, "DATA_PLATFORM_SIM_HISTORY_DAYS=0 must be from 1 to 3650 days"),
        ({"DATA_PLATFORM_SIM_DIRT": "filthy"}, "DATA_PLATFORM_SIM_DIRT='filthy': use default, clean or everything"),
    ],
)
def test_a_bad_variable_is_a_clear_error_naming_it(environ, message):
    with pytest.raises(SettingsError, match=message):
        simulation_settings(environ)


@pytest.mark.parametrize(
    "variable,value,says",
    [
        ("DATA_PLATFORM_SIM_HISTORY_DAYS", "100000000", "from 1 to 3650 days"),
        ("DATA_PLATFORM_SIM_SCALE", "1e12", "at most 1000"),
        ("DATA_PLATFORM_SIM_HISTORY_DAYS", "0", "from 1 to 3650 days"),
    ],
)
def test_a_simulation_beyond_the_machine_is_refused_naming_the_variable(variable, value, says):
    with pytest.raises(SettingsError, match=f"{variable}=.*{says}"):
        simulation_settings({variable: value})
