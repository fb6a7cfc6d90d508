// Upsert node rows, on_conflict="keep": only create nodes that do not exist yet; an existing
// node keeps every property it has. $rows: [{key, props}], props without nulls.
UNWIND $rows AS row
MERGE (n:{label} {key: row.key})
ON CREATE SET n += row.props
