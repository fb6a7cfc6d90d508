// Wait (up to an hour) until every index is online: after a bulk import the constraints'
// indexes are built over the imported data.
CALL db.awaitIndexes(3600)
