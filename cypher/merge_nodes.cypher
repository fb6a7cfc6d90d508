// Upsert node rows, on_conflict="update": create missing nodes, and overwrite properties with
// the new values. $rows: [{key, props}], props without nulls (a null never erases a value).
UNWIND $rows AS row
MERGE (n:{label} {key: row.key})
SET n += row.props
