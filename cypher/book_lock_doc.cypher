// Take the write lock of one case-book document (created empty when missing) and read it.
MERGE (d:_CaseDoc {kind: $kind, id: $id})
SET d._locked = true
REMOVE d._locked
RETURN d.body AS body
