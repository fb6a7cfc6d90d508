// Empty the database, step 2: every node, graph and bookkeeping alike, except the case book
// (alert triage, cases, users and the audit log outlive a reload; auto-commit transaction).
MATCH (n)
WHERE NOT (n:_CaseDoc OR n:_CaseChain OR n:_CaseChainHead)
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 20000 ROWS
