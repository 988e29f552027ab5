DROP TABLE remedial_escalations;
