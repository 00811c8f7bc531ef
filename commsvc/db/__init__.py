"""The database: models' base and column types, engines, units of work, failures."""
