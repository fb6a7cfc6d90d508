// Names of the constraints that exist (schema setup only creates the missing ones).
SHOW CONSTRAINTS YIELD name RETURN name
