// The keys of all nodes of a label.
MATCH (n:{label})
RETURN n.key AS key
