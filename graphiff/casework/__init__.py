"""Case work: alert triage that survives detection (:mod:`.triage`), cases (:mod:`.cases`),
users, roles and tokens (:mod:`.users`) and the hash-chained audit log (:mod:`.audit`), all
kept in the store's case book (:mod:`graphiff.stores.book`). docs/case-work.md tells the whole.
"""
from graphiff.casework import audit, cases, triage, users

__all__ = ["audit", "cases", "triage", "users"]
