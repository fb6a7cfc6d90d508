// The full-text index of graphiff search (graphiff/search/neo4j.py): the names and addresses of
// the labels that have them (graphiff.search.documents.field_specs: text fields), and the key
// of Address nodes (their normalised address). Accents and case are folded (Lucene's
// standard-folding analyzer). Created when missing; the store waits until it is online.
CREATE FULLTEXT INDEX graphiff_search IF NOT EXISTS
FOR (n:Trader|Person|Carrier|Address) ON EACH [n.name, n.address, n.key]
OPTIONS {indexConfig: {`fulltext.analyzer`: 'standard-folding', `fulltext.eventually_consistent`: false}};
CALL db.awaitIndexes(300);
