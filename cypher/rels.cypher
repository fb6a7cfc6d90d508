// All relationships of a type as rows: identity, end labels and keys, and the values of the
// properties $cols (in order; null where a relationship has none).
MATCH (a)-[r:{type}]->(b)
RETURN r.rid AS rid, labels(a)[0] AS src_label, a.key AS src, labels(b)[0] AS dst_label, b.key AS dst,
       [c IN $cols | r[c]] AS v
