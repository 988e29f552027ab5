-- Undoes up.sql.
DROP TABLE access_code_failures;
DROP TABLE sitting_exceptions;
