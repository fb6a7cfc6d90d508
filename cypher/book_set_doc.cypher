// Store one case-book document after an update (the lock is held by book_lock_doc).
MATCH (d:_CaseDoc {kind: $kind, id: $id})
SET d.body = $body
