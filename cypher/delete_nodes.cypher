// Delete the nodes of a label with the given keys, and their relationships.
UNWIND $keys AS k
MATCH (n:{label} {key: k})
DETACH DELETE n
RETURN count(*) AS n
