// Lock chain $name (its head node) and read its last entry: appends to a chain run one at a time.
MERGE (h:_CaseChainHead {name: $name})
SET h._locked = true
REMOVE h._locked
WITH h
OPTIONAL MATCH (e:_CaseChain {name: $name})
WITH e ORDER BY e.seq DESC LIMIT 1
RETURN e.body AS body
