// Bookkeeping of the graphiff Neo4j store (labels starting with "_" are not part of the graph
// model and never counted): one :_Load node per load, one :_Columns node per node label or
// relationship type holding its column names and types (so tables read back with the same
// columns and dtypes as the embedded store, even for columns no node has a value in).
CREATE CONSTRAINT graphiff__Load_load_id IF NOT EXISTS FOR (l:_Load) REQUIRE l.load_id IS UNIQUE;
CREATE CONSTRAINT graphiff__Columns_id IF NOT EXISTS FOR (c:_Columns) REQUIRE c.id IS UNIQUE;
