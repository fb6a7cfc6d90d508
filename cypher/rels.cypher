// One page of the relationships of a type, in rid order (keyset pagination over the rid
// index): identity, end labels and keys, and the values of the properties $cols (in order;
// null where a relationship has none). Run repeatedly inside one read transaction.
MATCH (a)-[r:{type}]->(b)
WHERE r.rid >= $after
WITH a, r, b ORDER BY r.rid LIMIT $page
RETURN collect(r.rid) AS rids,
       collect([labels(a)[0], a.key, labels(b)[0], b.key]) AS ends,
       collect([c IN $cols | r[c]]) AS vals
