// One page of the nodes of a label, in key order (keyset pagination over the key index):
// their keys and the values of the properties $cols (in order; null where a node has none).
// Run repeatedly inside one read transaction with $after = the last key of the previous page (which comes back again first).
MATCH (n:{label})
WHERE n.key >= $after
WITH n ORDER BY n.key LIMIT $page
RETURN collect(n.key) AS keys, collect([c IN $cols | n[c]]) AS vals
