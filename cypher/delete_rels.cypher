// Delete the relationships of a type with the given identities (`rid`); nodes stay.
UNWIND $rids AS rid
MATCH ()-[r:{type} {rid: rid}]->()
DELETE r
RETURN count(*) AS n
