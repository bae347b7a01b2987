"""Conformance suites written against a port only; an adapter's test module binds one.

The suites are plain modules (not collected on their own), so their asserts are registered
for pytest's rewriting here, before they are imported.
"""

import pytest

pytest.register_assert_rewrite("tests.contracts.store")
