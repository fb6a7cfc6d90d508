// Upsert relationship rows of one type between one (source label, target label) pair; the
// end nodes exist (merge_keys.cypher runs first, creating missing ends bare). A relationship
// is identified by `rid` (ends + identity properties); its properties are overwritten with
// the new non-null values. $rows: [{src, dst, rid, props}], props without nulls.
UNWIND $rows AS row
MATCH (a:{src} {key: row.src})
MATCH (b:{dst} {key: row.dst})
MERGE (a)-[r:{type} {rid: row.rid}]->(b)
SET r += row.props
