"""Housekeeping of accounts."""

from qcloop.core.sweeper import sweep

from . import throttle


@sweep("old sign-in failures")
def forget_old_login_failures() -> int:
    return throttle.forget_old()
