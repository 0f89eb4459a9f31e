import pytest
from findme_common.refusals import Refusal
from findme_events import codes


def test_generated_codes_use_only_unambiguous_characters() -> None:
    generated = {codes.generate() for _ in range(2000)}
    assert len(generated) == 2000
    for code in generated:
        assert len(code) == codes.LENGTH
        assert set(code) <= set(codes.ALPHABET)
    assert not set("0O1IL") & set("".join(generated))
    # Every symbol of the alphabet shows up: the generator is not stuck on a subset.
    assert set("".join(generated)) == set(codes.ALPHABET)


@pytest.mark.parametrize(
    "typed", ["ABCD-EFGH", "abcd efgh", " abcdefgh ", "ab-cd-ef-gh", "ABCD\u00a0EFGH"]
)
def test_typed_codes_are_normalised(typed: str) -> None:
    assert codes.normalize(typed) == "ABCDEFGH"


@pytest.mark.parametrize("typed", ["", "ABCDEFG", "ABCDEFGHJ", "ABCDEFG0", "ABCDEFGI", "ABC$EFGH"])
def test_malformed_codes_are_refused(typed: str) -> None:
    with pytest.raises(Refusal) as refused:
        codes.normalize(typed)
    assert refused.value.reason == "invalid_event_code"
    assert codes.try_normalize(typed) is None
