// Lock chain $name (its head node) and read its last entry: appends to a chain run one at a time.
// Ordered by both properties of the (name, seq) index, the last entry is one index look-up, not a
// scan of the whole chain (which made every append slower as the audit log grew); the subquery
// takes h so that it runs after the lock is held.
MERGE (h:_CaseChainHead {name: $name})
SET h._locked = true
REMOVE h._locked
WITH h
CALL (h) {
  OPTIONAL MATCH (e:_CaseChain)
  WHERE e.name = $name AND e.seq IS NOT NULL
  RETURN e ORDER BY e.name DESC, e.seq DESC LIMIT 1
}
RETURN e.body AS body
