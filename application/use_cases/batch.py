"""Batch operations (issue 18, ADR 0024): many items through one single-item use case, each answered on
its own. An item's business error (a ``KeyManagerError``: a bad field, a key it may not use, an envelope
that does not open) is that item's answer; the batch goes on. A store or keystore that does not answer
(``StoreUnavailableError``) fails the whole batch, as it would fail every item after it; so does any
unexpected error (a bug is not an item's answer)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from domain.errors import KeyManagerError, StoreUnavailableError, ValidationError

Item = TypeVar("Item")
Result = TypeVar("Result")

#: KEYMANAGER_BATCH_MAX_ITEMS' default.
DEFAULT_MAX_ITEMS = 100


@dataclass(frozen=True)
class ItemOutcome(Generic[Result]):
    """The answer to one item: its result, or the error it met."""

    index: int
    result: Result | None = None
    error: KeyManagerError | None = None


def check_batch_size(count: int, limit: int) -> None:
    """KER-KMS-005 for a batch over ``limit`` items (the whole batch is refused, nothing runs)."""
    if count > limit:
        raise ValidationError([f"request.items has {count} items; at most {limit} are allowed"])


def run_each(items: Sequence[Item], run: Callable[[int, Item], Result]) -> list[ItemOutcome[Result]]:
    """``run(index, item)`` for every item in order; business errors become that item's outcome."""
    outcomes: list[ItemOutcome[Result]] = []
    for index, item in enumerate(items):
        try:
            outcomes.append(ItemOutcome(index, result=run(index, item)))
        except StoreUnavailableError:
            raise
        except KeyManagerError as error:
            outcomes.append(ItemOutcome(index, error=error))
    return outcomes
