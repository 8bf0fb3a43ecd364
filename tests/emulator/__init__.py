"""The emulator's own tests."""

import pytest

# Before anything imports it: the shared helpers' asserts then explain a failure as a test's own do.
pytest.register_assert_rewrite("tests.emulator.helpers")
