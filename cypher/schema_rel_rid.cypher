// Every relationship of a type is unique on `rid`: its ends plus the identity properties the
// model names for the type (e.g. OFFICER_OF: role), so two loads never duplicate it.
CREATE CONSTRAINT graphiff_{type}_rid IF NOT EXISTS FOR ()-[r:{type}]-() REQUIRE r.rid IS UNIQUE
