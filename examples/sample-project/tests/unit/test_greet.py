import attrs
import pytest
from greeter import Greeting, greet, stamp


def test_greet() -> None:
    assert greet(" Ada ") == "Hello, Ada!"


def test_blank_name_is_refused() -> None:
    with pytest.raises(ValueError, match="blank"):
        greet("  ")


def test_greeting_is_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Greeting("Ada").name = "Bob"  # type: ignore[misc]


@pytest.mark.parametrize("punctuation", ["!", "?", "."])
def test_punctuation(punctuation: str) -> None:
    assert Greeting("Ada", punctuation).render().endswith(punctuation)


def test_stamp_is_utc() -> None:
    assert stamp().endswith("Z")
