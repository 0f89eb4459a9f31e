import pytest
from findme_common.refusals import Refusal
from findme_events import usernames


@pytest.mark.parametrize("typed", ["Alice", "alice", "ALICE", "Ａｌｉｃｅ", "  alice "])  # noqa: RUF001
def test_case_and_width_variants_share_one_key(typed: str) -> None:
    assert usernames.normalize(typed) == "alice"


def test_unicode_letters_digits_and_punctuation_are_allowed() -> None:
    assert usernames.normalize("Zoë_2024") == "zoë_2024"
    assert usernames.normalize("Straße") == "strasse"
    assert usernames.normalize("j.doe-1") == "j.doe-1"
    assert usernames.normalize("山田太郎") == "山田太郎"


def test_decomposed_and_composed_accents_are_the_same_name() -> None:
    assert usernames.normalize("Zoe\u0308y") == usernames.normalize("Zo\u00ebY")


@pytest.mark.parametrize(
    "typed",
    ["ab", "", "a" * 33, "bob smith", "bob@home", "<script>", "semi;colon", "\u0301abc", "tab\tx"],
)
def test_unusable_names_are_refused_with_a_reason(typed: str) -> None:
    with pytest.raises(Refusal) as refused:
        usernames.normalize(typed)
    assert refused.value.reason == "invalid_username"
    assert refused.value.message


def test_length_is_counted_after_normalisation() -> None:
    # "ß" folds to "ss": 16 of them are 32 characters, 17 are too many.
    assert usernames.normalize("ß" * 16) == "ss" * 16
    with pytest.raises(Refusal):
        usernames.normalize("ß" * 17)


def test_display_name_keeps_what_was_typed() -> None:
    assert usernames.display_name("  Ａｌｉｃｅ ") == "Ａｌｉｃｅ"  # noqa: RUF001
