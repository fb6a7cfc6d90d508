// The column list of one node label / relationship type ($id = "node:Trader", "rel:HOLDS"),
// write-locked for the rest of the transaction so concurrent loads never lose a column.
MERGE (c:_Columns {id: $id})
ON CREATE SET c.names = [], c.types = []
SET c.version = coalesce(c.version, 0) + 1
RETURN c.names AS names, c.types AS types
