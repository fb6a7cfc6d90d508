// Keep batches of a unit of work as staging records: $records = [{unit, seq, stmt, names,
// label, rows}] where stmt names the MERGE statement to run at publish, names its label/type
// placeholders (JSON) and rows its parameter list (JSON). Nothing of the graph changes.
UNWIND $records AS r
CREATE (s:_Stage)
SET s = r
