// Which carriers move a trader's goods, and whom else do they serve?
//
// A carrier used by one small group of traders says more than a shipping line everyone uses:
// `other_traders` lists the other exporters/importers on that carrier's declarations (the 25
// busiest), `n_other_traders` how many there are in all.
//
// Parameters: $trader_id  (the trader's key)
MATCH (t:Trader {key: $trader_id})
CALL (t) {
  MATCH (t)-[:EXPORTED]->(d:Declaration) RETURN d
  UNION
  MATCH (d:Declaration)-[:IMPORTED_BY]->(t) RETURN d
}
MATCH (d)-[:CARRIED_BY]->(c:Carrier)
WITH t, c, count(DISTINCT d) AS shipments_for_trader
// every other trader on the same carrier's declarations, with how many shipments
MATCH (c)<-[:CARRIED_BY]-(d2:Declaration)
CALL (d2) {
  MATCH (p:Trader)-[:EXPORTED]->(d2) RETURN p
  UNION
  MATCH (d2)-[:IMPORTED_BY]->(p:Trader) RETURN p
}
WITH t, c, shipments_for_trader, p, count(DISTINCT d2) AS shipments
WHERE p <> t
WITH c, shipments_for_trader, p, shipments ORDER BY shipments DESC
RETURN c.key AS carrier, c.name AS carrier_name, c.country AS carrier_country, shipments_for_trader,
       count(p) AS n_other_traders,
       collect({trader: p.key, name: p.name, country: p.country, shipments: shipments})[..25] AS other_traders
ORDER BY shipments_for_trader DESC, carrier
