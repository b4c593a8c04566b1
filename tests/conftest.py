"""Shared pytest set-up: hypothesis profiles.

``ci`` is derandomized with bounded examples and no deadline, so CI never flakes; ``dev`` explores
more widely for local runs. ``HYPOTHESIS_PROFILE`` picks one; CI (``CI=true``) defaults to ``ci``.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=30,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
_default = "ci" if os.environ.get("CI") else "dev"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", _default))


# -- the array library the backend tests run on ------------------------------------------------
# ``--backend array_api_strict`` (the default; the standard's strict CPU reference, on a device
# that refuses NumPy conversion as a GPU's memory does) or ``--backend cuda`` (CuPy on a GPU,
# as benchmarks/gpu_check.py runs it). tests/test_backend.py runs every case on NumPy and on it.
def pytest_addoption(parser):
    parser.addoption(
        "--backend",
        default="array_api_strict",
        choices=("array_api_strict", "cuda"),
        help="device the backend-parametrised tests compare against NumPy",
    )
