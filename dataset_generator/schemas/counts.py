"""How many elements a list value holds: a count distribution, clipped to [min, max] (as children per parent)."""

from __future__ import annotations

# Any here: raw input of before-validators.
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, model_validator

from .base import SpecModel, check_finite


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not {str(value).lower()}")
    return value


# Counts and sizes: `rows: true` is refused rather than read as 1.
Count = Annotated[int, BeforeValidator(_not_bool), Field(ge=0)]
Amount = Annotated[float, BeforeValidator(_not_bool)]


class ListLength(SpecModel):
    """Elements per list: poisson (lam), uniform (low..high) or fixed (value), clipped to [min, max].

    The base of the children per parent (`dataset.ChildCount`), which adds distributions of its own."""

    distribution: Literal["poisson", "uniform", "fixed"] = "poisson"
    lam: Amount | None = Field(None, gt=0)
    low: Count | None = None
    high: Count | None = None
    value: Count | None = None
    min: Count = 0
    max: Count = 1_000

    # The fields each distribution needs.
    _needed: ClassVar[dict[str, tuple[str, ...]]] = {"poisson": ("lam",), "uniform": ("low", "high"), "fixed": ("value",)}

    @model_validator(mode="after")
    def _check(self) -> ListLength:
        check_finite(lam=self.lam)
        missing = [name for name in self._needed[self.distribution] if getattr(self, name) is None]
        if missing:
            raise ValueError(f"distribution {self.distribution} needs {', '.join(missing)}")
        self._check_more()
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self

    def _check_more(self) -> None:
        """A subclass's own rules, checked after the needed fields."""

    def _mean(self) -> float:
        if self.distribution == "fixed":
            return float(self.value or 0)
        if self.distribution == "uniform":
            return ((self.low or 0) + (self.high or 0)) / 2
        return float(self.lam or 0)

    def expected(self) -> float:
        """Mean per parent (or list), after clipping to [min, max] (an estimate for uniform and poisson)."""
        return min(max(self._mean(), self.min), self.max)
