// One page of the keys of the nodes of a label, in key order (see nodes.cypher).
MATCH (n:{label})
WHERE n.key >= $after
WITH n.key AS key ORDER BY key LIMIT $page
RETURN collect(key) AS keys
