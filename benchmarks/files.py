"""An instance as the files packopt reads: its catalog as TOML and its forecast as a wide
CSV. One writer for the instance library (export.py, whose committed files must not change
by a byte), the bill-only floor (floor.py) and the comparison with the release
(release.py)."""

from __future__ import annotations

import json

from optimizer.domain.catalog import Catalog
from optimizer.domain.records import Forecast


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)      # a JSON string is a TOML basic string


def catalog_toml(cat: Catalog, comment: str | None = None) -> str:
    """The catalog as the TOML `--catalog` reads (docs/cli.md): packs, tiers, free calls
    (the first product's as the default, others' where they differ); aliases left out."""

    def rate(t):
        return _q(str(t.rate) if t.rate is not None else "unpublished")
    free = cat.products[0].free_calls if cat.products else 0
    lines = [f"# {comment}"] if comment else []
    lines += [f"currency = {_q(cat.currency)}", f"free_calls_per_month = {free}",
              f"validity_months = {cat.validity_months}", f"tier_basis = {_q(cat.tier_basis)}",
              ""]
    for p in cat.products:
        lines += ["[[product]]", f"id = {_q(p.id)}", f"name = {_q(p.name)}"]
        if p.free_calls != free:
            lines.append(f"free_calls_per_month = {p.free_calls}")
        if p.packs:
            lines.append("packs = [" + ", ".join(
                f"{{ calls = {k.calls}, price = {_q(str(k.price))} }}" for k in p.packs) + "]")
        lines.append("tiers = [" + ", ".join(
            (f"{{ up_to = {t.up_to}, rate = {rate(t)} }}" if t.up_to is not None
             else f"{{ rate = {rate(t)} }}") for t in p.tiers) + "]")
        lines.append("")
    return "\n".join(lines)


def forecast_csv(fc: Forecast) -> str:
    """The forecast as a wide CSV: one row per product, one column per month."""
    lines = ["product," + ",".join(str(fc.month(i)) for i in range(fc.months))]
    lines += [pid + "," + ",".join(map(str, calls)) for pid, calls in fc.demand]
    return "\n".join(lines) + "\n"
