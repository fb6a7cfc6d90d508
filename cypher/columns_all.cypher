// Every stored column list.
MATCH (c:_Columns)
RETURN c.id AS id, c.names AS names, c.types AS types
