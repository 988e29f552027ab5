-- Undoes up.sql.
UPDATE blueprints SET spec = '{' || substr(spec, length('{"case_points_per_item":true,') + 1)
    WHERE spec LIKE '{"case_points_per_item":true,%';
DROP TABLE sitting_exposure;
DROP TABLE item_exposure;
