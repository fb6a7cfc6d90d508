// Units of work (Store.atomic): one :_Unit marker per run of a load and its :_Stage records
// (batches kept until the unit commits; see docs/neo4j.md).
CREATE CONSTRAINT graphiff__Unit_unit IF NOT EXISTS FOR (u:_Unit) REQUIRE u.unit IS UNIQUE;
CREATE INDEX graphiff__Stage_unit IF NOT EXISTS FOR (s:_Stage) ON (s.unit);
