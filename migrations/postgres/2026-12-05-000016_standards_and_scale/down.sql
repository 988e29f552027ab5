DROP TABLE scaled_scores;
DROP TABLE sitting_pass_rules;
DROP TABLE standard_ratings;
DROP TABLE standard_studies;
