// Remove one case-book document after an update returned nothing.
MATCH (d:_CaseDoc {kind: $kind, id: $id})
DELETE d
