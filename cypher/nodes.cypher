// All nodes of a label as rows: the key and the values of the properties $cols (in order;
// null where a node has none).
MATCH (n:{label})
RETURN n.key AS key, [c IN $cols | n[c]] AS v
