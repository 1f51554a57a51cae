"""Tasks of the RQ tests: a worker imports them by path, as it imports the product's."""

from django.tasks import task


@task()
def add(a: int, b: int) -> int:
    return a + b


@task()
def lose_the_answer() -> None:
    raise LookupError("the factory's answer is missing")


@task()
def linger(seconds: float) -> str:
    """A job long enough to die in the middle of."""
    import time

    time.sleep(seconds)
    return "done"
