// The case-book documents of $kind (those with an id in $ids unless $ids is null), by id.
MATCH (d:_CaseDoc {kind: $kind})
WHERE $ids IS NULL OR d.id IN $ids
RETURN d.body AS body
ORDER BY d.id
