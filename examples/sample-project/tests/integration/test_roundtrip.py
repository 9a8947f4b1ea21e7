import attrs
from greeter import Greeting


def test_roundtrip_through_asdict() -> None:
    greeting = Greeting("Ada", "?")
    assert Greeting(**attrs.asdict(greeting)) == greeting


def test_evolve_keeps_name() -> None:
    assert attrs.evolve(Greeting("Ada"), punctuation=".").render() == "Hello, Ada."
