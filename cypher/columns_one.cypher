// The stored column list of one node label / relationship type ($id = "node:Trader", "rel:HOLDS").
MATCH (c:_Columns {id: $id})
RETURN c.names AS names, c.types AS types
