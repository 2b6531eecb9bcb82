"""Operations: health, readiness and Prometheus metrics (see :mod:`web.ops.http`)."""

from web.ops.http import OPS_METRICS, setup_ops

__all__ = ["OPS_METRICS", "setup_ops"]
