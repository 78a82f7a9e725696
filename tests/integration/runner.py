"""Run the integration tests and end with one 'N passed, N failed' line."""
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
pattern = os.environ.get("PAMORY_IT_PATTERN", "test_*.py")
suite = unittest.defaultTestLoader.discover(here, pattern=pattern)
if len(sys.argv) > 1:   # names like test_device_login.DeviceLoginTest.test_denied
    suite = unittest.defaultTestLoader.loadTestsFromNames(sys.argv[1:])
result = unittest.TextTestRunner(verbosity=2).run(suite)
failed = len(result.failures) + len(result.errors)
passed = max(result.testsRun - failed - len(result.skipped), 0)
print(f"integration: {passed} passed, {failed} failed")
sys.exit(0 if result.wasSuccessful() and not result.skipped and result.testsRun > 0 else 1)
