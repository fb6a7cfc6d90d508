// Who shares an address (or a phone number, or an e-mail address) with a trader?
//
// Addresses, phones and e-mails are nodes of their own (normalised when loaded), so "shares
// an address" is one hop out to the Address node and one hop back. Returns each other trader,
// person or carrier with the identifier it shares and where the record came from.
//
// Parameters: $trader_id  (the trader's key, e.g. "T00012")
// Example (cypher-shell): :param trader_id => 'T1'
MATCH (t:Trader {key: $trader_id})-[link:LOCATED_AT|HAS_PHONE|HAS_EMAIL]->(ident)<-[:LOCATED_AT|HAS_PHONE|HAS_EMAIL]-(other)
WHERE other <> t
RETURN type(link) AS shared, ident.key AS identifier,
       labels(other)[0] AS kind, other.key AS id, coalesce(other.name, other.key) AS name,
       other.country AS country, other._source AS source_file, other._line AS source_line
ORDER BY shared, identifier, kind, id
