// Insert or replace case-book documents ($kind, $rows: [{id, body}]).
UNWIND $rows AS r
MERGE (d:_CaseDoc {kind: $kind, id: r.id})
SET d.body = r.body
