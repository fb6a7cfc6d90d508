// Every node of a label is unique on `key` (what loads MERGE on; also the index they use).
CREATE CONSTRAINT graphiff_{label}_key IF NOT EXISTS FOR (n:{label}) REQUIRE n.key IS UNIQUE
