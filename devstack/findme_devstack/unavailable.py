"""What a test does when something it needs is missing from the machine: outside CI
it is skipped with the reason; under CI=true it fails, so a run that did not test
everything cannot pass."""

from __future__ import annotations

import os
from typing import NoReturn


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str, *, module: bool = False) -> NoReturn:
    import pytest

    if in_ci():
        pytest.fail(f"{reason} (CI=true: nothing may be skipped)", pytrace=False)
    pytest.skip(reason, allow_module_level=module)
