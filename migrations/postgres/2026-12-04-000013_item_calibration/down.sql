-- Undoes up.sql.
DROP TABLE item_calibrations;
