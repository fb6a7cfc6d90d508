// Store the column list of one node label / relationship type.
MATCH (c:_Columns {id: $id})
SET c.names = $names, c.types = $types
