-- Rasch calibration of the bank (issue 16), sqlite. Mirrors the other backend's migration of the same name.

-- The latest calibration of each question version, pooled over every graded exam response
-- (services::calibration): difficulty in logits with its standard error and the number of
-- responses behind it, fit mean squares (NULL for an item everyone got right or wrong), the
-- flags raised (comma-separated names, domain::measurement::flags::Flag), and whether the
-- difficulty was held at the previous run's value (anchor) to keep the scale.
CREATE TABLE item_calibrations (
    question_version_id BIGINT PRIMARY KEY REFERENCES question_versions(id),
    question_id BIGINT NOT NULL REFERENCES questions(id),
    difficulty DOUBLE PRECISION NOT NULL,
    se DOUBLE PRECISION NOT NULL,
    n INTEGER NOT NULL,
    infit DOUBLE PRECISION,
    outfit DOUBLE PRECISION,
    flags TEXT NOT NULL,
    anchored BOOLEAN NOT NULL,
    calibrated_at TIMESTAMP NOT NULL
);
CREATE INDEX item_calibrations_question ON item_calibrations(question_id);
