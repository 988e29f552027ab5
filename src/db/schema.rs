// Hand-kept to match migrations/{sqlite,postgres}; portable column types only.

diesel::table! {
    units (id) {
        id -> BigInt,
        parent_id -> Nullable<BigInt>,
        name -> Text,
        kind -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        badge -> Text,
        name -> Text,
        unit_id -> BigInt,
        police_type -> Text,
        post -> Text,
        enforcement_post -> Bool,
        rank -> Text,
        hire_date -> Date,
        is_leader -> Bool,
        is_legal_officer -> Bool,
        email -> Nullable<Text>,
        password_hash -> Text,
        active -> Bool,
        created_at -> Timestamp,
        id_number -> Nullable<Text>,
        must_change_password -> Bool,
        password_changed_at -> Nullable<Timestamp>,
        lang -> Text,
    }
}

diesel::table! {
    user_roles (user_id, role) {
        user_id -> BigInt,
        role -> Text,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        kind -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        token_prefix -> Text,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    statutes (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
        short_name -> Text,
    }
}

diesel::table! {
    statute_editions (id) {
        id -> BigInt,
        statute_id -> BigInt,
        code -> Text,
        title -> Text,
        in_force -> Date,
        replaces -> Nullable<Text>,
        changed_articles -> Text,
        changed_all -> Bool,
        registered_by -> Nullable<BigInt>,
        registered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    cases (id) {
        id -> BigInt,
        code -> Text,
        title -> Text,
        body -> Text,
        content_hash -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    questions (id) {
        id -> BigInt,
        code -> Text,
        case_id -> Nullable<BigInt>,
        case_position -> Integer,
        kind -> Text,
        status -> Text,
        origin -> Text,
        file_hash -> Nullable<Text>,
        latest_version -> Integer,
        live_version -> Nullable<Integer>,
        revision -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    question_versions (id) {
        id -> BigInt,
        question_id -> BigInt,
        version -> Integer,
        statute_code -> Text,
        edition_code -> Text,
        articles -> Text,
        difficulty -> Integer,
        levels -> Text,
        stem -> Text,
        options -> Text,
        explanation -> Text,
        tags -> Text,
        content_hash -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        reviewed_by -> Nullable<BigInt>,
        reviewed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    answer_keys (question_version_id) {
        question_version_id -> BigInt,
        answer -> Text,
    }
}

diesel::table! {
    blueprints (id) {
        id -> BigInt,
        name -> Text,
        spec -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sittings (id) {
        id -> BigInt,
        title -> Text,
        kind -> Text,
        blueprint_id -> BigInt,
        opens_at -> Timestamp,
        closes_at -> Timestamp,
        duration_minutes -> Integer,
        pass_percent -> Integer,
        multi_rule -> Text,
        score_release -> Text,
        answer_release -> Text,
        eligibility -> Text,
        pool -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        challenge_days -> Integer,
        cert_level -> Nullable<Text>,
        controls -> Text,
        plan_id -> Nullable<BigInt>,
        makeup_of -> Nullable<BigInt>,
        absences_recorded -> Bool,
        filed -> Bool,
        reminded -> Bool,
        /// SHA-256 of `pool` ('' = not known): what prepared papers are checked against.
        pool_hash -> Text,
    }
}

diesel::table! {
    /// Work one app server at a time does (`services::operations::lead`).
    leases (name) {
        name -> Text,
        holder -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    /// Papers drawn before a sitting opens (`services::prepared`); a start moves one into `attempts`.
    prepared_papers (sitting_id, user_id) {
        sitting_id -> BigInt,
        user_id -> BigInt,
        seed -> BigInt,
        paper -> Text,
        max_centi -> BigInt,
        pool_hash -> Text,
        prepared_at -> Timestamp,
    }
}

diesel::table! {
    attempts (id) {
        id -> BigInt,
        sitting_id -> BigInt,
        user_id -> BigInt,
        seed -> BigInt,
        paper -> Text,
        started_at -> Timestamp,
        deadline -> Timestamp,
        last_saved_at -> Nullable<Timestamp>,
        submitted_at -> Nullable<Timestamp>,
        submit_kind -> Nullable<Text>,
        score_centi -> Nullable<BigInt>,
        max_centi -> BigInt,
        passed -> Nullable<Bool>,
        item_scores -> Nullable<Text>,
        flagged -> Bool,
        client_ip -> Nullable<Text>,
    }
}

diesel::table! {
    responses (attempt_id, question_version_id) {
        attempt_id -> BigInt,
        question_version_id -> BigInt,
        choices -> Text,
        flagged -> Bool,
        saved_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        subject -> Text,
        detail -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    challenges (id) {
        id -> BigInt,
        attempt_id -> BigInt,
        sitting_id -> BigInt,
        user_id -> BigInt,
        question_version_id -> BigInt,
        article -> Text,
        reason -> Text,
        created_at -> Timestamp,
        status -> Text,
        resolution -> Nullable<Text>,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
        decision_reason -> Nullable<Text>,
    }
}

diesel::table! {
    key_adjustments (sitting_id, question_version_id) {
        sitting_id -> BigInt,
        question_version_id -> BigInt,
        also_accepted -> Text,
        voided -> Bool,
        challenge_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    item_stats (sitting_id, question_version_id) {
        sitting_id -> BigInt,
        question_version_id -> BigInt,
        question_id -> BigInt,
        n -> Integer,
        facility -> Double,
        discrimination -> Nullable<Double>,
        flagged -> Bool,
        detail -> Text,
    }
}

diesel::table! {
    item_calibrations (question_version_id) {
        question_version_id -> BigInt,
        question_id -> BigInt,
        difficulty -> Double,
        se -> Double,
        n -> Integer,
        infit -> Nullable<Double>,
        outfit -> Nullable<Double>,
        flags -> Text,
        anchored -> Bool,
        calibrated_at -> Timestamp,
    }
}

diesel::table! {
    item_exposure (sitting_id, question_version_id) {
        sitting_id -> BigInt,
        question_version_id -> BigInt,
        papers -> Integer,
    }
}

diesel::table! {
    sitting_exposure (sitting_id) {
        sitting_id -> BigInt,
        papers -> Integer,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    sitting_stats (sitting_id) {
        sitting_id -> BigInt,
        detail -> Text,
        computed_at -> Timestamp,
    }
}

diesel::table! {
    bank_imports (id) {
        id -> BigInt,
        user_id -> BigInt,
        file_name -> Text,
        format -> Text,
        file_hash -> Text,
        created_at -> Timestamp,
        committed_at -> Nullable<Timestamp>,
        report -> Nullable<Text>,
        data -> Binary,
        defaults -> Text,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        subject -> Text,
        body -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
        updated_by -> Nullable<BigInt>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    certificates (id) {
        id -> BigInt,
        number -> Text,
        verify_code -> Text,
        user_id -> BigInt,
        level -> Text,
        police_type -> Text,
        issued_on -> Date,
        expires_on -> Date,
        attempt_id -> Nullable<BigInt>,
        score_centi -> Nullable<BigInt>,
        status -> Text,
        ended_on -> Nullable<Date>,
        warned_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    post_changes (id) {
        id -> BigInt,
        user_id -> BigInt,
        post -> Text,
        enforcement_post -> Bool,
        effective_on -> Date,
        recorded_by -> Nullable<BigInt>,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    cert_registrations (id) {
        id -> BigInt,
        user_id -> BigInt,
        level -> Text,
        status -> Text,
        registered_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        sitting_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    exam_plans (id) {
        id -> BigInt,
        name -> Text,
        blueprint_id -> BigInt,
        eligibility -> Text,
        schedule -> Text,
        duration_minutes -> Integer,
        pass_percent -> Integer,
        multi_rule -> Text,
        score_release -> Text,
        answer_release -> Text,
        last_created -> Nullable<Date>,
        active -> Bool,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    attempt_events (id) {
        id -> BigInt,
        attempt_id -> BigInt,
        at -> Timestamp,
        kind -> Text,
        detail -> Text,
        actor_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    absences (sitting_id, user_id) {
        sitting_id -> BigInt,
        user_id -> BigInt,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    training_entries (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        occurred_on -> Date,
        source -> Text,
        corrects_id -> Nullable<BigInt>,
        data -> Text,
        note -> Text,
        recorded_by -> Nullable<BigInt>,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    remedial_plans (id) {
        id -> BigInt,
        user_id -> BigInt,
        trigger_kind -> Text,
        reason -> Text,
        source_attempt_id -> Nullable<BigInt>,
        referred_by -> Nullable<BigInt>,
        statutes -> Text,
        review_items -> Text,
        stage -> Text,
        status -> Text,
        mastery_percent -> Integer,
        opened_at -> Timestamp,
        deadline -> Timestamp,
        exam_sitting_id -> Nullable<BigInt>,
        exam_tries -> Integer,
        reminded_at -> Nullable<Timestamp>,
        overdue_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        outcome -> Nullable<Text>,
    }
}

diesel::table! {
    remedial_escalations (id) {
        id -> BigInt,
        plan_id -> BigInt,
        unit_id -> Nullable<BigInt>,
        why -> Text,
        opened_at -> Timestamp,
        action -> Nullable<Text>,
        action_by -> Nullable<BigInt>,
        action_at -> Nullable<Timestamp>,
        action_reason -> Nullable<Text>,
        new_deadline -> Nullable<Timestamp>,
    }
}

diesel::table! {
    remedial_reviews (plan_id, question_version_id) {
        plan_id -> BigInt,
        question_version_id -> BigInt,
        note -> Text,
        written_at -> Timestamp,
    }
}

diesel::table! {
    practice_sessions (id) {
        id -> BigInt,
        user_id -> BigInt,
        mode -> Text,
        filter -> Text,
        plan_id -> Nullable<BigInt>,
        items -> Text,
        started_at -> Timestamp,
        last_active_at -> Timestamp,
    }
}

diesel::table! {
    practice_answers (session_id, question_version_id) {
        session_id -> BigInt,
        question_version_id -> BigInt,
        choices -> Text,
        correct -> Bool,
        seconds -> Integer,
        answered_at -> Timestamp,
    }
}

diesel::table! {
    case_evaluations (id) {
        id -> BigInt,
        user_id -> BigInt,
        month -> Text,
        case_ref -> Text,
        deduction_centi -> BigInt,
        note -> Text,
        imported_by -> Nullable<BigInt>,
        imported_at -> Timestamp,
    }
}

diesel::table! {
    promotion_rules (id) {
        id -> BigInt,
        name -> Text,
        target -> Text,
        min_level -> Nullable<Text>,
        no_open_remedial -> Bool,
        no_failed_bimonthly_months -> Nullable<Integer>,
        cert_valid_on_date -> Bool,
        active -> Bool,
        updated_by -> Nullable<BigInt>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        name -> Text,
        token_hash -> Text,
        role -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> BigInt,
        user_id -> Nullable<BigInt>,
        to_addr -> Text,
        kind -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Text,
        created_at -> Timestamp,
        tries -> Integer,
        next_try_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        failed_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    sitting_exceptions (id) {
        id -> BigInt,
        sitting_id -> BigInt,
        user_id -> BigInt,
        reason -> Text,
        granted_by -> BigInt,
        granted_at -> Timestamp,
    }
}

diesel::table! {
    access_code_failures (id) {
        id -> BigInt,
        sitting_id -> BigInt,
        user_id -> BigInt,
        failures -> Integer,
        last_at -> Timestamp,
    }
}

diesel::table! {
    sign_in_throttle (badge, source) {
        badge -> Text,
        source -> Text,
        failures -> Integer,
        last_failure_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        forget_at -> Timestamp,
    }
}

diesel::joinable!(training_entries -> users (user_id));
diesel::joinable!(remedial_plans -> users (user_id));
diesel::joinable!(practice_answers -> practice_sessions (session_id));
diesel::joinable!(case_evaluations -> users (user_id));
diesel::joinable!(users -> units (unit_id));
diesel::joinable!(certificates -> users (user_id));
diesel::joinable!(attempt_events -> attempts (attempt_id));
diesel::joinable!(challenges -> attempts (attempt_id));
diesel::joinable!(challenges -> users (user_id));
diesel::joinable!(item_stats -> questions (question_id));
diesel::joinable!(notifications -> users (user_id));
diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(statute_editions -> statutes (statute_id));
diesel::joinable!(question_versions -> questions (question_id));
diesel::joinable!(questions -> cases (case_id));
diesel::joinable!(sittings -> blueprints (blueprint_id));
diesel::joinable!(attempts -> sittings (sitting_id));
diesel::joinable!(prepared_papers -> sittings (sitting_id));
diesel::joinable!(attempts -> users (user_id));
diesel::joinable!(responses -> attempts (attempt_id));

diesel::table! {
    standard_studies (id) {
        id -> BigInt,
        level -> Text,
        blueprint_id -> BigInt,
        form -> Text,
        round -> Integer,
        status -> Text,
        opened_by -> BigInt,
        opened_at -> Timestamp,
        cut -> Nullable<Double>,
        cut_se -> Nullable<Double>,
        theta -> Nullable<Double>,
        theta_low -> Nullable<Double>,
        theta_high -> Nullable<Double>,
        closed_at -> Nullable<Timestamp>,
        adopted_by -> Nullable<BigInt>,
        adopted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    standard_ratings (study_id, round, rater_id, item) {
        study_id -> BigInt,
        round -> Integer,
        rater_id -> BigInt,
        item -> Integer,
        p -> Double,
        rated_at -> Timestamp,
    }
}

diesel::table! {
    sitting_pass_rules (sitting_id) {
        sitting_id -> BigInt,
        study_id -> BigInt,
        theta -> Double,
    }
}

diesel::table! {
    scaled_scores (attempt_id) {
        attempt_id -> BigInt,
        ability -> Nullable<Double>,
        ability_se -> Nullable<Double>,
        calibrated_items -> Integer,
        paper_items -> Integer,
        rule -> Text,
        cut_theta -> Nullable<Double>,
        raw_cut -> Nullable<Double>,
        difficulties -> Text,
        graded_at -> Timestamp,
    }
}

diesel::table! {
    jobs (id) {
        id -> BigInt,
        kind -> Text,
        payload -> Binary,
        state -> Text,
        rows_done -> Integer,
        rows_total -> Integer,
        result -> Nullable<Text>,
        errors -> Nullable<Text>,
        created_by -> BigInt,
        claimed_by -> Nullable<Text>,
        heartbeat_at -> Nullable<Timestamp>,
        runs -> Integer,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        subject_id -> Nullable<BigInt>,
        file -> Nullable<Binary>,
        file_name -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    item_exposure,
    sitting_exposure,
    sitting_exceptions,
    access_code_failures,
    units,
    users,
    user_roles,
    sessions,
    statutes,
    statute_editions,
    cases,
    questions,
    question_versions,
    answer_keys,
    blueprints,
    sittings,
    attempts,
    responses,
    audit_log,
    challenges,
    key_adjustments,
    item_stats,
    sitting_stats,
    bank_imports,
    notifications,
    settings,
    certificates,
    post_changes,
    cert_registrations,
    exam_plans,
    attempt_events,
    absences,
    training_entries,
    remedial_plans,
    remedial_escalations,
    remedial_reviews,
    practice_sessions,
    practice_answers,
    case_evaluations,
    promotion_rules,
    api_tokens,
    mail_outbox,
    sign_in_throttle,
    standard_studies,
    standard_ratings,
    sitting_pass_rules,
    scaled_scores,
    jobs,
    prepared_papers,
    leases,
);
