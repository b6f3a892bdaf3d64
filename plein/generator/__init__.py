"""Demo-region generator: a realistic, deterministic Werkplein region with an oracle.

`generate_region(n_clients, seed, taxonomy=None, job_offers=None, reference_date=...,
progress=None)` returns a `plein.region.Region` with every table of `plein.schema` filled,
including the `truth_ladder` and `truth_match` oracle tables. See docs/generator.md.
"""

from plein.generator.core import DEFAULT_REFERENCE_DATE, generate_region

__all__ = ["DEFAULT_REFERENCE_DATE", "generate_region"]
