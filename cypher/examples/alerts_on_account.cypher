// Which alerts touch a bank account or the payments it sent or received?
//
// Alerts written back by `graphiff detect` are (:Alert)-[:FLAGS]->(entity) in the graph, so
// the alerts around an account are one hop from the account and from each of its payments.
// `evidence` is the alert's evidence as JSON text.
//
// Parameters: $account_id  (the account's key: an IBAN upper case without spaces, or the id)
MATCH (acct:BankAccount {key: $account_id})
OPTIONAL MATCH (acct)-[:SENT]->(sent:Payment)
OPTIONAL MATCH (received:Payment)-[:RECEIVED_BY]->(acct)
WITH acct, collect(DISTINCT sent) + collect(DISTINCT received) AS payments
UNWIND [acct] + payments AS x
MATCH (alert:Alert)-[:FLAGS]->(x)
RETURN alert.key AS alert, alert.pattern AS pattern, alert.score AS score, alert.explanation AS explanation,
       labels(x)[0] AS flags_label, x.key AS flags_id, x.date AS date, x.amount AS amount, x.currency AS currency,
       alert.evidence AS evidence
ORDER BY score DESC, alert, flags_id
