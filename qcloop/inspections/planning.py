"""Default milestone windows from a PO's dates. Pure: no Django.

The glossary's timing: IPC in the first days of production, DUPRO at 30-50 % of the run, PSI
when production is complete (just before ex-factory), CLI on the loading day (between
ex-factory and shipping). Windows are re-planned from real progress by the scheduler."""

from datetime import date, timedelta

# Without a known production start, assume a typical six-week run before ex-factory.
DEFAULT_RUN_DAYS = 42


def default_windows(
    production_start: date | None, ex_factory: date, ship_date: date
) -> dict[str, tuple[date, date]]:
    start = production_start or ex_factory - timedelta(days=DEFAULT_RUN_DAYS)
    run_days = max((ex_factory - start).days, 1)

    def at(share: float) -> date:
        return start + timedelta(days=round(run_days * share))

    ipc = (start, min(start + timedelta(days=2), ex_factory))
    dupro = (max(at(0.30), ipc[0]), max(at(0.50), ipc[0]))
    psi_end = max(ex_factory - timedelta(days=1), dupro[1])
    psi = (max(ex_factory - timedelta(days=5), dupro[1]), psi_end)
    cli = (ex_factory, max(ship_date, ex_factory))
    return {"IPC": ipc, "DUPRO": dupro, "PSI": psi, "CLI": cli}
