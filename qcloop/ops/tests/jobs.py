"""Tasks of the RQ tests: a worker imports them by path, as it imports the product's."""

from django.tasks import task


@task()
def add(a: int, b: int) -> int:
    return a + b


@task()
def lose_the_answer() -> None:
    raise LookupError("the factory's answer is missing")
