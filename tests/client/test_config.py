"""Where the client connects and with which key: arguments, else the variables, in pairs."""

from __future__ import annotations

import pytest

from mnemo_client import DEFAULT_BASE_URL, Client, MnemoClientError
from mnemo_client.config import OMI_BASE_URL, resolve

KEY = "omi_dev_" + "cd" * 16
OTHER = "omi_dev_" + "ef" * 16


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"MNEMO_API_KEY": KEY}, (DEFAULT_BASE_URL, KEY)),
        ({"MNEMO_BASE_URL": "http://m:1/", "MNEMO_API_KEY": KEY}, ("http://m:1", KEY)),
        ({"OMI_API_KEY": KEY}, (OMI_BASE_URL, KEY)),
        ({"OMI_API_BASE": "http://o:2", "OMI_API_KEY": KEY}, ("http://o:2", KEY)),
        # mnemo's pair wins, whole: Omi's URL never gets mnemo's key, nor the reverse
        (
            {"MNEMO_API_KEY": KEY, "OMI_API_BASE": "https://api.omi.me", "OMI_API_KEY": OTHER},
            (DEFAULT_BASE_URL, KEY),
        ),
    ],
)
def test_the_variables_are_read_in_pairs(
    environ: dict[str, str], expected: tuple[str, str]
) -> None:
    target = resolve(None, None, environ)
    assert (target.base_url, target.api_key) == expected


def test_a_half_pair_of_mnemo_names_no_key_rather_than_borrowing_omis() -> None:
    with pytest.raises(MnemoClientError, match="no API key"):
        resolve(None, None, {"MNEMO_BASE_URL": "http://m:1", "OMI_API_KEY": OTHER})


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNEMO_BASE_URL", "http://env:1")
    monkeypatch.setenv("MNEMO_API_KEY", OTHER)
    with Client(base_url="http://arg:2", api_key=KEY) as client:
        assert client.base_url == "http://arg:2"
        assert repr(client) == "Client(base_url='http://arg:2')"
    with Client() as client:
        assert client.base_url == "http://env:1"


@pytest.mark.parametrize(
    ("base_url", "api_key", "message"),
    [
        ("http://h", "", "no API key"),
        ("http://h", "omi_dev_x\r\nX-Evil: 1", "printable ASCII"),
        ("http://h", "omi dev", "printable ASCII"),
        ("ftp://h", KEY, "not an http:// or https:// URL"),
        ("127.0.0.1:8080", KEY, "not an http:// or https:// URL"),
        ("http://", KEY, "not an http:// or https:// URL"),
        ("http://h/?x=1", KEY, "no query or fragment"),
    ],
)
def test_bad_settings_are_refused_without_showing_the_key(
    base_url: str, api_key: str, message: str
) -> None:
    with pytest.raises(MnemoClientError, match=message) as raised:
        Client(base_url=base_url, api_key=api_key)
    if api_key:
        assert api_key not in str(raised.value)


@pytest.mark.parametrize("max_retries", [-1, 1.5, True, "2"])
def test_max_retries_must_be_a_whole_number(max_retries: object) -> None:
    with pytest.raises(MnemoClientError, match="max_retries"):
        Client(base_url="http://h", api_key=KEY, max_retries=max_retries)  # type: ignore[arg-type]
