from tiny_lib import VALUE


def test_value() -> None:
    assert VALUE == 1
