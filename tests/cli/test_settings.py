"""Every setting, given a bad value in its `MNEMO_*` variable (or its flag), is refused
with one line naming the setting as the user wrote it, the value and what is allowed."""

from __future__ import annotations

import types
from typing import Any, Literal, Union, get_args, get_origin

import pytest

from mnemo.config import InvalidSettings, Settings, allowed_values, load_settings

# Fields whose every value is acceptable text (checked where they are used: the model
# name and key by the language model's server). The host is checked when `serve` binds
# it, but an empty one (which would bind every interface) or one with spaces is refused.
FREE_TEXT = {"llm_model", "llm_api_key"}
# Flags of `mnemo serve` (and --database-url on every command).
FLAGS = {"host", "port", "workers", "log_level", "database_url"}
URL_VALUES = {
    "database_url": "mysql://root:hunter2@db/x",
    "redis_url": "127.0.0.1:6379",
    "llm_base_url": "ftp://user:hunter2@models/",
}
# Secrets too weak to use: the message says why, never the value.
SECRET_VALUES = {"admin_token": "too-short-to-be-a-token"}


def _kind(name: str) -> Any:
    annotation: Any = Settings.model_fields[name].annotation
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
    return annotation


def bad_values(name: str) -> list[str]:
    """Values that setting `name` must refuse: the wrong type, and each bound crossed."""
    if name in URL_VALUES:
        return [URL_VALUES[name]]
    if name in SECRET_VALUES:
        return [SECRET_VALUES[name]]
    kind = _kind(name)
    if get_origin(kind) is Literal:
        return ["bogus"]
    if kind is bool:
        return ["maybe"]
    metadata = Settings.model_fields[name].metadata
    if kind is str and any(getattr(item, "pattern", None) for item in metadata):
        return ["", " 127.0.0.1"]
    if kind in (int, float):
        values = ["abc", "1.5x"] + (["2.5"] if kind is int else [])
        metadata = Settings.model_fields[name].metadata
        for bound in metadata:
            for attr, step in (("ge", -1), ("gt", 0), ("le", 1), ("lt", 0)):
                if hasattr(bound, attr):
                    values.append(str(getattr(bound, attr) + step))
        return values
    return []


def test_every_field_is_covered() -> None:
    without = {name for name in Settings.model_fields if not bad_values(name)}
    assert without == FREE_TEXT


CASES = [(name, value) for name in Settings.model_fields for value in bad_values(name)]


@pytest.mark.parametrize(("name", "value"), CASES)
def test_a_bad_variable_names_the_variable(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"MNEMO_{name.upper()}", value)
    with pytest.raises(InvalidSettings) as raised:
        load_settings()
    _assert_names(str(raised.value), f"MNEMO_{name.upper()}", name, value)


@pytest.mark.parametrize(("name", "value"), [c for c in CASES if c[0] in FLAGS])
def test_a_bad_flag_names_the_flag(name: str, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"MNEMO_{name.upper()}", "")  # a flag wins over the variable
    with pytest.raises(InvalidSettings) as raised:
        load_settings(**{name: value})
    flag = "--" + name.replace("_", "-")
    _assert_names(str(raised.value), flag, name, value)
    assert f"MNEMO_{name.upper()}" not in str(raised.value)


def _assert_names(message: str, label: str, name: str, value: str) -> None:
    assert "\n" not in message and "pydantic" not in message and "errors.pydantic" not in message
    assert message.startswith(f"invalid {label}")
    if name in URL_VALUES:  # the check's own words: the URL (masked) and the forms allowed
        assert "hunter2" not in message
        assert repr(value.replace("hunter2", "***")) in message
        assert any(form in message for form in ("use sqlite:///PATH", "use redis://", "http://"))
    elif name in SECRET_VALUES:
        assert value not in message and "at least 32 characters" in message
    else:
        assert f"{label} {value!r}: expected {allowed_values(name)}" in message


def test_allowed_values_in_words() -> None:
    assert allowed_values("port") == "an integer from 0 to 65535"
    assert allowed_values("host") == "an address or host name of this machine, no spaces"
    assert allowed_values("workers") == "an integer from 1 to 64"
    assert allowed_values("log_level") == "one of critical, error, warning, info, debug"
    assert allowed_values("dedup_enabled") == "true or false"
    assert allowed_values("rate_limit_reads") == "an integer (at least 1), or unset"
    assert allowed_values("llm_timeout_s") == "a number (greater than 0 and at most 120)"


def test_several_bad_settings_are_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNEMO_PORT", "abc")
    monkeypatch.setenv("MNEMO_DEDUP_ENABLED", "maybe")
    with pytest.raises(InvalidSettings) as raised:
        load_settings(workers="0")
    message = str(raised.value)
    assert "\n" not in message
    for part in (
        "invalid MNEMO_PORT 'abc'",
        "invalid MNEMO_DEDUP_ENABLED 'maybe'",
        "--workers '0'",
    ):
        assert part in message
