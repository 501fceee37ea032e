from __future__ import annotations

import types

import looptrace
import looptrace.sdk


def test_looptrace_all_is_the_sorted_list_of_its_public_names():
    # The SDK's names load on first use (PEP 562 in looptrace/__init__.py): use each, then list them.
    for name in looptrace.__all__:
        getattr(looptrace, name)
    public = sorted(
        name
        for name, value in vars(looptrace).items()
        if not name.startswith("_") and name != "annotations" and not isinstance(value, types.ModuleType)
    )
    assert looptrace.__all__ == public


def test_looptrace_re_exports_exactly_the_sdk_public_names():
    assert looptrace.__all__ == sorted(looptrace.sdk.__all__)
    for name in looptrace.__all__:
        assert getattr(looptrace, name) is getattr(looptrace.sdk, name)
