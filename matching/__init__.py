"""Vacancy matching: ranked candidates for a vacancy (employer services) and ranked vacancies
for a client, with hard filters, transferable skills, reasons for every score, optional
learned re-ranking, fair exposure across lists and outcome recording. See docs/matching.md.

Modules: `config` (filters, weights), `index` (sparse skill vectors), `features` (the one pair
feature path), `filters`, `scoring` (rule-based score), `engine` (`Matcher`), `exposure`,
`outcomes`, `frames` (reading client/vacancy frames and files), `esco`, `cli`.
"""
