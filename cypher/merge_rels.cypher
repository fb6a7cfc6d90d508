// Upsert relationship rows of one type between one (source label, target label) pair.
// Missing end nodes are created bare (key only). A relationship is identified by `rid`
// (ends + identity properties); its properties are overwritten with the new non-null values.
// $rows: [{src, dst, rid, props}], props without nulls.
UNWIND $rows AS row
MERGE (a:{src} {key: row.src})
MERGE (b:{dst} {key: row.dst})
MERGE (a)-[r:{type} {rid: row.rid}]->(b)
SET r += row.props
