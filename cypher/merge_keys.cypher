// Make sure nodes with these keys exist (created bare, key only, when missing): the end nodes
// of relationship rows, before the relationships are merged. $keys: distinct keys.
UNWIND $keys AS k
MERGE (n:{label} {key: k})
