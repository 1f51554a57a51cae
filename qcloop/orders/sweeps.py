"""Housekeeping for POs: spreadsheet uploads left between the import steps go after a day."""

from qcloop.core.sweeper import sweep

from . import import_services


@sweep("stale PO import uploads")
def delete_stale_import_uploads() -> int:
    return import_services.purge_stale_uploads()
