//! HTTP: thin routes per area. Each handler is guard → domain/service call → page or JSON.

pub mod account;
pub mod admin;
pub mod admin_accounts;
pub mod api;
pub mod api_hr;
pub mod audit;
pub mod bank;
pub mod bank_files;
pub mod certification;
pub mod challenges;
pub mod charts;
pub mod editions;
pub mod errors;
pub mod exams;
pub mod guards;
pub mod hr;
pub mod ids;
pub mod jobs;
pub mod measurement;
pub mod ops;
pub mod pages;
pub mod pdf;
pub mod plans;
pub mod proctor;
pub mod session;
pub mod settings;
pub mod sittings;
pub mod static_files;
pub mod training;

/// Runs blocking database work off the async executor (see `state::with_db`).
pub use crate::state::with_db;

/// Parses an HTML `datetime-local` value ("2026-03-01T09:00") given in the bureau's time,
/// which is UTC+8 (China Standard Time), into stored UTC.
pub fn parse_local_datetime(s: &str) -> Option<chrono::NaiveDateTime> {
    let s = s.trim();
    let t = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
        .ok()?;
    Some(t - crate::timefmt::bureau_offset())
}

/// Shows a stored UTC time in the bureau's time (see `timefmt::local`).
pub use crate::timefmt::local;

/// Every route of the application.
// The old certification path stays mounted on purpose (its handler is marked deprecated for the
// OpenAPI document).
#[allow(deprecated)]
pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![
        ops::health,
        ops::ready,
        ops::metrics,
        session::home,
        session::login_page,
        session::login,
        session::logout,
        session::set_lang,
        static_files::file,
        exams::list,
        exams::show,
        exams::start,
        exams::attempt_page,
        exams::submit,
        exams::result,
        bank::list,
        bank::new_page,
        bank::create,
        bank::show,
        bank::edit_page,
        bank::update,
        editions::list,
        editions::register,
        editions::worklist,
        bank_files::import_page,
        bank_files::upload,
        bank_files::preview,
        bank_files::commit,
        bank_files::template,
        bank_files::export,
        challenges::file,
        challenges::list,
        challenges::show,
        challenges::decide,
        certification::mine,
        certification::register,
        certification::registrations,
        certification::register_officer,
        certification::rules_form,
        certification::save_rules,
        certification::change_post,
        certification::officer,
        certification::verify,
        certification::officers,
        certification::certificate_pdf,
        proctor::live,
        proctor::integrity,
        proctor::extra_time,
        proctor::reopen,
        proctor::makeup,
        proctor::downtime,
        proctor::dismiss_event,
        proctor::let_in,
        proctor::exceptions,
        proctor::grant_exception,
        plans::list,
        plans::create,
        bank::approve,
        bank::activate,
        bank::retire,
        bank::reinstate,
        sittings::blueprints,
        sittings::new_blueprint,
        sittings::create_blueprint,
        sittings::list,
        sittings::new_sitting,
        sittings::create_sitting,
        sittings::show,
        sittings::paper_audit,
        sittings::results_csv,
        sittings::results_pdf,
        sittings::stats,
        sittings::recompute_stats,
        measurement::item_map,
        measurement::item_curve,
        measurement::dif,
        measurement::standards_list,
        measurement::open_study,
        measurement::study,
        measurement::rate,
        measurement::round_two,
        measurement::close,
        measurement::adopt,
        admin::users,
        settings::settings_page,
        settings::save_targets,
        settings::save_rules,
        settings::save_exports,
        settings::api_targets,
        settings::api_put_targets,
        settings::api_rules,
        settings::api_put_rules,
        admin::new_user,
        admin::create_user,
        admin::import_page,
        admin::import,
        admin::job_page,
        jobs::job_show,
        jobs::job_file,
        api::openapi,
        api::create_token,
        api::my_sittings,
        api::start_attempt,
        api::get_attempt,
        api::save_answer,
        training::practice_home,
        training::practice_start,
        training::practice_set,
        training::practice_answer,
        training::remedial_list,
        training::remedial_plan,
        training::remedial_review,
        training::remedial_practice,
        training::remedial_refer,
        training::escalation_act,
        training::escalations_page,
        training::files_list,
        training::case_page,
        training::case_import,
        training::my_file,
        training::file_page,
        training::file_pdf,
        training::file_correct,
        training::file_reward,
        training::file_export,
        hr::rules,
        hr::save_rule,
        hr::eligibility,
        hr::run_check,
        hr::compliance,
        hr::tokens,
        hr::create_token,
        hr::revoke_token,
        hr::mail,
        hr::retry_mail,
        hr::records,
        api::submit_attempt,
        api::attempt_event,
        api::register_for_certification,
        api::register_for_certification_old_path,
        api::verify_certificate,
        api::create_blueprint,
        api::create_sitting,
        api::sitting_results,
        api::items_calibration,
        api::items_exposure,
        account::password_form,
        account::set_language,
        account::change_password,
        account::tokens_page,
        account::revoke_token_page,
        account::put_password,
        account::list_tokens,
        account::delete_token,
        admin_accounts::account,
        admin_accounts::reset_password,
        admin_accounts::disable,
        admin_accounts::enable,
        admin_accounts::unlock,
        admin_accounts::locks,
        admin_accounts::unlock_lock,
        admin_accounts::api_account,
        admin_accounts::api_reset,
        admin_accounts::api_disable,
        admin_accounts::api_enable,
        admin_accounts::api_unlock,
        audit::audit_page,
        audit::checkpoint,
        api_hr::api_eligibility,
        api_hr::api_promotion_rules,
        api_hr::api_promotion_rule,
        api_hr::api_create_promotion_rule,
        api_hr::api_update_promotion_rule,
        api_hr::api_remedial_plans,
        api_hr::api_remedial_plan,
        api_hr::api_exam_plans,
        api_hr::api_exam_plan,
        api_hr::api_create_exam_plan,
    ]
}
