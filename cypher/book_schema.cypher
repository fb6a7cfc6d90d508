// The case book in a Neo4j store (graphiff.stores.book_neo4j): documents (:_CaseDoc, unique on
// kind + id) and append-only chains (:_CaseChain, unique on name + seq; :_CaseChainHead is
// locked while appending). Labels starting with "_" are not part of the graph model.
CREATE CONSTRAINT graphiff__CaseDoc_kind_id IF NOT EXISTS FOR (d:_CaseDoc) REQUIRE (d.kind, d.id) IS UNIQUE;
CREATE CONSTRAINT graphiff__CaseChain_name_seq IF NOT EXISTS FOR (e:_CaseChain) REQUIRE (e.name, e.seq) IS UNIQUE;
CREATE CONSTRAINT graphiff__CaseChainHead_name IF NOT EXISTS FOR (h:_CaseChainHead) REQUIRE h.name IS UNIQUE;
