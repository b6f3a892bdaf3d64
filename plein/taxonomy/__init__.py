"""ESCO taxonomy of occupations and skills, and the sectors of a Werkplein.

`Taxonomy.builtin()` works offline; `Taxonomy.from_profiles(path)` and
`Taxonomy.from_esco_csv(folder)` import the full ESCO classification; `Taxonomy.load()` picks
the imported one from the data folder when present. See docs/taxonomy.md.

This service uses the ESCO classification of the European Commission.
"""

from plein.taxonomy.core import ATTRIBUTION, Taxonomy, TaxonomyError
from plein.taxonomy.sectors import ISCO_SECTOR, SECTOR_CODES, SECTORS, sector_for_isco

__all__ = ["ATTRIBUTION", "ISCO_SECTOR", "SECTOR_CODES", "SECTORS", "Taxonomy", "TaxonomyError", "sector_for_isco"]
