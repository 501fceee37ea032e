"""Internal error handling: log and carry on, or re-raise when a test asks for it.

The SDK runs inside agent code it does not own, so a bug in looptrace must never break the
agent (the OpenTelemetry SDK's processors follow the same rule). Tests flip
`raise_internal_errors` through `init(advanced=AdvancedOptions(raise_internal_errors=True))`
so that such bugs fail loudly there instead of hiding in a log.
"""

from __future__ import annotations

import logging

logger = logging.getLogger("looptrace")

# Written only by init()/shutdown() (the caller's thread); read everywhere. A plain bool read is atomic.
raise_internal_errors = False


def log_internal_error(message: str = "looptrace internal error") -> None:
    """Log the exception being handled, or re-raise it under test.

    Call only from inside an `except` block.

    Args:
        message: What looptrace was doing when it failed.
    """
    if raise_internal_errors:
        raise  # the exception being handled: callers are inside an `except` block
    logger.exception(message)
