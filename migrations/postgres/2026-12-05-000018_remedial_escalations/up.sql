-- A remedial plan that is overdue or failed its last remedial exam reaches someone: the leader
-- of the officer's unit, else of the nearest unit above with a leader account, else HR
-- (unit_id NULL). The one it reaches acknowledges it, extends the plan with a reason, or refers
-- it a level up (a new row). One open row per plan at a time.
CREATE TABLE remedial_escalations (
    id BIGSERIAL PRIMARY KEY,
    plan_id BIGINT NOT NULL REFERENCES remedial_plans(id),
    unit_id BIGINT REFERENCES units(id),
    why TEXT NOT NULL,
    opened_at TIMESTAMP NOT NULL,
    action TEXT,
    action_by BIGINT REFERENCES users(id),
    action_at TIMESTAMP,
    action_reason TEXT,
    new_deadline TIMESTAMP
);
CREATE INDEX remedial_escalations_plan ON remedial_escalations(plan_id);
CREATE INDEX remedial_escalations_open ON remedial_escalations(action, unit_id);
