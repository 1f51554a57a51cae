"""The `qcloop` command.

qcloop demo        migrate, load the demo program, print the logins, then serve it
qcloop serve       migrate, then run the web server, the worker and the sweeper together
qcloop web         the web server alone (gunicorn)
qcloop worker      the background worker alone (django-tasks-db)
qcloop sweeper     the sweeper loop alone (deadline checks and housekeeping)
qcloop manage ...  Django's manage.py
qcloop createadmin a staff superuser for the Django admin
qcloop backup F    database and files into one archive (docs/backup.md)
qcloop restore F   that archive into an empty instance, any engine
qcloop aql ...     an ISO 2859-1 sampling plan and its OC figures
"""

import argparse
import os
import signal
import subprocess
import sys
import time

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def _django(settings_module: str = "qcloop.settings") -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django

    django.setup()


def _prepare_database(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def _collect_static() -> None:
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def cmd_manage(args: argparse.Namespace, rest: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qcloop.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["qcloop manage", *rest])
    return 0


def cmd_web(args: argparse.Namespace, rest: list[str]) -> int:
    _django()
    from gunicorn.app.base import BaseApplication

    from qcloop.wsgi import application

    class Web(BaseApplication):
        def load_config(self):
            options = {
                "bind": f"{args.host}:{args.port}",
                "workers": args.workers,
                "worker_class": "gthread",
                "threads": 4,
                # No access log of gunicorn's: qcloop logs each request with its id.
                "accesslog": None,
                "timeout": 60,
                "graceful_timeout": 10,
                # Longer than a load balancer's idle timeout (60 s on the usual ones): else
                # the server closes a kept-alive connection just as the balancer reuses it,
                # and that request is reset (seen in bench/scale_out.py at gunicorn's 2 s).
                "keepalive": int(os.environ.get("QCLOOP_WEB_KEEPALIVE", "75")),
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return application

    Web().run()
    return 0


def cmd_worker(args: argparse.Namespace, rest: list[str]) -> int:
    _django()
    from django.core.management import call_command
    from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends

    from qcloop.ops.tasks_backend import RQBackend

    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    if isinstance(backend, RQBackend):
        _warm_up()
        # RQ's worker also moves scheduled jobs and requeues those of workers that died.
        backend.worker().work(with_scheduler=True, burst=args.burst)
        return 0
    call_command(
        "db_worker", reload=False, interval=args.interval, queue_name="*", batch=args.burst
    )
    return 0


def _warm_up() -> None:
    """Load once, in RQ's worker, what jobs need (every app's URLs and views, the storage
    backend): each job's forked work horse then starts with it instead of importing it again
    (about 0.3-0.7 s a job, measured by bench/scale_out.py)."""
    from django.conf import settings
    from django.urls import get_resolver
    from django.utils.module_loading import autodiscover_modules, import_string

    get_resolver().url_patterns  # noqa: B018 - imports every app's urls and views
    autodiscover_modules("tasks")
    import_string(settings.STORAGES["default"]["BACKEND"])


def cmd_sweeper(args: argparse.Namespace, rest: list[str]) -> int:
    _django()
    from qcloop.core.sweeper import run_forever

    run_forever(interval=args.interval, once=args.once)
    return 0


def cmd_createadmin(args: argparse.Namespace, rest: list[str]) -> int:
    _django()
    _prepare_database()
    from qcloop.accounts.models import User

    email = args.email or input("Email: ").strip()
    password = os.environ.get("QCLOOP_ADMIN_PASSWORD")
    if not password:
        import getpass

        password = getpass.getpass("Password: ")
    if User.objects.filter(email__iexact=email).exists():
        print(f"A user with the email {email} already exists.", file=sys.stderr)
        return 1
    User.objects.create_superuser(email=email, password=password, full_name=args.name)
    print(f"Created staff superuser {email}; sign in at /admin/.")
    return 0


def cmd_backup(args: argparse.Namespace, rest: list[str]) -> int:
    _django()
    from django.core.management import call_command

    call_command("backup", args.path)
    return 0


def cmd_restore(args: argparse.Namespace, rest: list[str]) -> int:
    _django()
    from django.core.management import call_command

    call_command("restore", args.path, force=args.force)
    return 0


def cmd_aql(args: argparse.Namespace, rest: list[str]) -> int:
    from qcloop.sampling.cli import main as aql_main

    return aql_main(rest)


def cmd_serve(args: argparse.Namespace, rest: list[str]) -> int:
    if args.production:
        # One JSON object a log line for the log shipper, unless the operator chose otherwise.
        os.environ.setdefault("QCLOOP_LOG_FORMAT", "json")
    _django()
    if args.production and not _deployable():
        return 2
    print("Preparing the database and static files ...", flush=True)
    _prepare_database()
    _collect_static()
    return _supervise(args.host, args.port, args.workers)


def _deployable() -> bool:
    """Django's deployment checks, refusing to serve on an error (DEBUG on, a weak secret key,
    ...). Warnings (HTTPS not configured, say, behind a TLS-terminating proxy) are printed."""
    from django.conf import settings
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    if settings.DEBUG:
        print("qcloop serve --production refuses DEBUG=true.", file=sys.stderr)
        return False
    try:
        call_command("check", deploy=True, fail_level="ERROR")
    except SystemCheckError as error:
        print(f"qcloop serve --production: the deployment checks failed\n{error}", file=sys.stderr)
        return False
    return True


def cmd_demo(args: argparse.Namespace, rest: list[str]) -> int:
    _django()
    print("Preparing the database and static files ...", flush=True)
    _prepare_database()
    _collect_static()
    from qcloop.demo import load_demo

    result = load_demo(stdout=sys.stdout)
    url = f"http://{args.host}:{args.port}/"
    print(f"\nqcloop demo: {url}  (admin: {url}admin/, API docs: {url}api/docs)\n", flush=True)
    if not result.created:
        print("(The demo program was already loaded; nothing was added.)\n", flush=True)
    if args.no_serve:
        return 0
    return _supervise(args.host, args.port, args.workers)


def _supervise(host: str, port: int, workers: int) -> int:
    """Run web, worker and sweeper as child processes; when one stops, stop them all."""
    me = [sys.executable, "-m", "qcloop"]
    children = {
        "web": subprocess.Popen(
            [*me, "web", "--host", host, "--port", str(port), "--workers", str(workers)]
        ),
        "worker": subprocess.Popen([*me, "worker"]),
        "sweeper": subprocess.Popen([*me, "sweeper"]),
    }
    print(f"Serving on http://{host}:{port}/ with the worker and the sweeper. Ctrl-C stops.")
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"qcloop {name} stopped (exit {child.returncode}); stopping the others.")
                exit_code = child.returncode or 1
                stopping = True
        time.sleep(0.5)
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return exit_code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qcloop", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def served(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help)
        p.add_argument("--host", default=os.environ.get("QCLOOP_HOST", DEFAULT_HOST))
        p.add_argument("--port", type=int, default=int(os.environ.get("PORT", DEFAULT_PORT)))
        p.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", 2)))
        return p

    serve = served("serve", "migrate, then run web server, worker and sweeper")
    serve.add_argument(
        "--production",
        action="store_true",
        help="refuse to start when Django's deployment checks fail; JSON logs (docs/deploy.md)",
    )
    serve.set_defaults(func=cmd_serve)
    demo = served("demo", "load the demo program and serve it")
    demo.add_argument("--no-serve", action="store_true", help="load the demo and stop")
    demo.set_defaults(func=cmd_demo)
    served("web", "the web server alone").set_defaults(func=cmd_web)
    worker = sub.add_parser("worker", help="the background worker")
    worker.add_argument("--interval", type=float, default=1.0)
    worker.add_argument("--burst", action="store_true", help="run what is queued, then stop")
    worker.set_defaults(func=cmd_worker)
    sweeper = sub.add_parser("sweeper", help="the sweeper loop")
    sweeper.add_argument("--interval", type=float, default=None)
    sweeper.add_argument("--once", action="store_true", help="sweep once and stop")
    sweeper.set_defaults(func=cmd_sweeper)
    sub.add_parser("manage", help="Django's manage.py", add_help=False).set_defaults(
        func=cmd_manage
    )
    admin = sub.add_parser("createadmin", help="create a staff superuser")
    admin.add_argument("--email")
    admin.add_argument("--name", default="qcloop admin")
    admin.set_defaults(func=cmd_createadmin)
    backup = sub.add_parser("backup", help="database and files into one archive")
    backup.add_argument("path", help="the archive to write (.tar or .tar.gz)")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help="an archive into an empty instance")
    restore.add_argument("path", help="the archive to read")
    restore.add_argument("--force", action="store_true", help="replace what the instance holds")
    restore.set_defaults(func=cmd_restore)
    sub.add_parser("aql", help="an ISO 2859-1 sampling plan", add_help=False).set_defaults(
        func=cmd_aql
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args, rest = _parser().parse_known_args(argv)
    if rest and args.command not in {"manage", "aql"}:
        _parser().error(f"unrecognised arguments: {' '.join(rest)}")
    return args.func(args, rest) or 0


if __name__ == "__main__":
    sys.exit(main())
