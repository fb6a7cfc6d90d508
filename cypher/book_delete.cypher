// Remove case-book documents of $kind by id ($ids).
MATCH (d:_CaseDoc {kind: $kind})
WHERE d.id IN $ids
DELETE d
RETURN count(*) AS n
