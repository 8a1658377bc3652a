"""How many elements a list value holds: a count distribution, clipped to [min, max] (as children per parent)."""

from __future__ import annotations

# Any here: raw input of before-validators.
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from .base import SpecModel, check_finite


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not {str(value).lower()}")
    return value


Count = Annotated[int, BeforeValidator(_not_bool), Field(ge=0)]
Amount = Annotated[float, BeforeValidator(_not_bool)]


class ListLength(SpecModel):
    """Elements per list: poisson (lam), uniform (low..high) or fixed (value), clipped to [min, max]."""

    distribution: Literal["poisson", "uniform", "fixed"] = "poisson"
    lam: Amount | None = Field(None, gt=0)
    low: Count | None = None
    high: Count | None = None
    value: Count | None = None
    min: Count = 0
    max: Count = 1_000

    @model_validator(mode="after")
    def _check(self) -> ListLength:
        check_finite(lam=self.lam)
        needed = {"poisson": ("lam",), "uniform": ("low", "high"), "fixed": ("value",)}[self.distribution]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"distribution {self.distribution} needs {', '.join(missing)}")
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self

    def expected(self) -> float:
        """Mean children per parent, after clipping to [min, max] (an estimate for uniform and poisson)."""
        if self.distribution == "fixed":
            mean = float(self.value or 0)
        elif self.distribution == "uniform":
            mean = ((self.low or 0) + (self.high or 0)) / 2
        else:
            mean = float(self.lam or 0)
        return min(max(mean, self.min), self.max)
