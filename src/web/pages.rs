//! What every page shares: the reader's language, the signed-in user, the CSRF token, the
//! layout; the error page; and the form data guard that checks CSRF before anything else.

use rocket::data::{Data, FromData, Outcome as DataOutcome, ToByteUnit};
use rocket::form::{Form, FromForm};
use rocket::http::{CookieJar, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::content::RawHtml;
use serde_json::{json, Value};

use crate::auth::{form_csrf, same_secret, CurrentUser, MaybeUser};
use crate::domain::org::Role;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::render::LANGS;
use crate::state::AppState;

pub const LANG_COOKIE: &str = "lang";

/// The reader's language: the `lang` cookie (the switch on every page), else the best supported
/// language of the browser's `Accept-Language`, else Chinese.
pub fn lang_of(req: &Request<'_>) -> &'static str {
    let chosen = req.cookies().get(LANG_COOKIE).and_then(|c| LANGS.iter().copied().find(|l| *l == c.value()));
    chosen.or_else(|| req.headers().get_one("Accept-Language").and_then(accept_language)).unwrap_or(LANGS[0])
}

/// The supported language `Accept-Language` prefers, if any (`en-GB,en;q=0.9,zh;q=0.8` → en).
pub fn accept_language(header: &str) -> Option<&'static str> {
    let mut wanted: Vec<(f32, usize, &'static str)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut bits = part.split(';');
            let tag = bits.next()?.trim().to_ascii_lowercase();
            let q = bits.filter_map(|b| b.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok())).next().unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            let lang = LANGS.iter().copied().find(|l| *l == primary)?;
            (q > 0.0 && q.is_finite()).then_some((q, i, lang))
        })
        .collect();
    wanted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    wanted.first().map(|w| w.2)
}

/// Everything a page template needs besides its own data.
pub struct PageCtx<'r> {
    pub lang: &'static str,
    pub user: Option<&'r CurrentUser>,
    pub csrf: String,
    pub path: String,
    pub state: &'r AppState,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for PageCtx<'r> {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let user = match req.guard::<MaybeUser<'r>>().await {
            Outcome::Success(m) => m.0,
            _ => None,
        };
        let state = req.rocket().state::<AppState>().expect("state");
        let jar: &CookieJar<'_> = req.cookies();
        let csrf = form_csrf(jar, user, state.config.secure_cookies);
        Outcome::Success(PageCtx { lang: lang_of(req), user, csrf, path: req.uri().path().to_string(), state })
    }
}

fn user_json(u: &CurrentUser) -> Value {
    json!({
        "name": u.user.name,
        "badge": u.user.badge,
        "officer": u.has(Role::Officer),
        "trainer": u.has(Role::Trainer),
        "leader": u.has(Role::Leader),
        "hr": u.has(Role::Hr),
        "admin": u.has(Role::Admin),
        "results": u.has(Role::Trainer) || u.has(Role::Leader) || u.has(Role::Hr) || u.has(Role::Admin),
        "personnel": u.has(Role::Hr) || u.has(Role::Admin),
    })
}

impl PageCtx<'_> {
    /// Renders a page; `data` is merged with the shared fields.
    pub fn render(&self, template: &str, mut data: Value) -> AppResult<RawHtml<String>> {
        let obj = data.as_object_mut().expect("page data is an object");
        obj.insert("lang".into(), json!(self.lang));
        obj.insert("en".into(), json!(self.lang == "en"));
        obj.insert("user".into(), self.user.map(user_json).unwrap_or(Value::Null));
        obj.insert("csrf".into(), json!(self.csrf));
        obj.insert("path".into(), json!(self.path));
        obj.insert("demo".into(), json!(self.state.demo));
        obj.entry("flash").or_insert(Value::Null);
        obj.entry("error").or_insert(Value::Null);
        self.state.renderer.render(template, &data).map(RawHtml).map_err(|e| {
            eprintln!("{e}");
            AppError::internal("the page could not be shown")
        })
    }

    pub fn user(&self) -> AppResult<&CurrentUser> {
        self.user.ok_or_else(|| AppError::unauthorized("please sign in"))
    }
}

/// The HTML error page, in the reader's language, saying what happened and what to do.
/// Error codes with a page text of their own (`error.<code>.title` / `.help` in the catalogues);
/// other errors are explained by their status.
/// The error page: the code's own title and explanation from the catalogue (`error.<code>` in
/// the locale files), in the reader's language, and the message with the particulars.
pub fn error_page(req: &Request<'_>, e: &AppError) -> String {
    let status = e.status();
    let Some(state) = req.rocket().state::<AppState>() else {
        return format!("<!doctype html><title>{0}</title><h1>{0}</h1>", status.code);
    };
    let lang = lang_of(req);
    // the particulars in the reader's language where the error carries a catalogue key; an
    // English-only particular is left out where the code's title and help say the reason
    let keyed = !e.problems.is_empty() || !e.localized.is_empty();
    let message = if lang != "en" && !keyed && e.code.says_its_reason() { String::new() } else { said(&state.renderer, lang, e) };
    let data = json!({
        "lang": lang, "en": lang == "en", "user": Value::Null, "csrf": "", "path": req.uri().path().to_string(),
        "flash": Value::Null, "error": Value::Null, "demo": state.demo,
        "status": status.code,
        "kind": e.code.as_str(),
        "message": message,
        "fields": e.fields,
    });
    state.renderer.render("error", &data).unwrap_or_else(|err| {
        eprintln!("{err}");
        format!("<!doctype html><title>{0}</title><h1>{0}</h1>", status.code)
    })
}

/// An error's particulars in `lang`: its catalogue sentences where it carries them, else its
/// message.
pub fn said(renderer: &crate::render::Renderer, lang: &str, e: &AppError) -> String {
    if !e.problems.is_empty() {
        let parts: Vec<String> = e.problems.iter().map(|p| crate::render::say_problem(lang, p, "")).collect();
        return parts.join(if lang == "en" { "; " } else { "；" });
    }
    if e.localized.is_empty() {
        return e.message.clone();
    }
    let parts: Vec<String> = e
        .localized
        .iter()
        .map(|(key, params)| {
            // "@level.basic" names a catalogue entry (a level's name); dates as the reader writes them
            let mut params = params.clone();
            if let Some(m) = params.as_object_mut() {
                for v in m.values_mut() {
                    if let Some(s) = v.as_str() {
                        let said = match s.strip_prefix('@') {
                            Some(k) => Some(renderer.text(lang, k, &json!({}))),
                            None => crate::timefmt::localize(lang, s),
                        };
                        if let Some(t) = said {
                            *v = json!(t);
                        }
                    }
                }
            }
            renderer.text(lang, key, &params)
        })
        .collect();
    parts.join(if lang == "en" { "; " } else { "；" })
}

impl PageCtx<'_> {
    /// [`said`] for this page's reader.
    pub fn said(&self, e: &AppError) -> String {
        said(&self.state.renderer, self.lang, e)
    }

    /// Problems as a form shows them: `field: sentence`, the sentence from the catalogue in the
    /// reader's language (the field's name places it beside its field, `{{field_error}}`; the
    /// list at the top says the sentence alone, `{{problem}}`); a problem of the whole form is
    /// its sentence.
    pub fn problem_lines(&self, problems: &[crate::domain::validation::Problem]) -> Vec<String> {
        problems
            .iter()
            .map(|p| {
                let sentence = crate::render::say_problem(self.lang, p, "");
                if p.field.is_empty() {
                    sentence
                } else {
                    format!("{}: {sentence}", p.field)
                }
            })
            .collect()
    }

    /// An invalid input's lines for its form: [`PageCtx::problem_lines`] where the service named
    /// its problems by catalogue key, else [`AppError::lines`].
    pub fn form_lines(&self, e: &AppError) -> Vec<String> {
        if e.problems.is_empty() {
            e.lines()
        } else {
            self.problem_lines(&e.problems)
        }
    }
}

/// A form whose `_csrf` field has been checked against the visitor's token before `T` is
/// parsed. Every form POST takes its data through this guard.
pub struct CsrfForm<T>(pub T);

#[rocket::async_trait]
impl<'r, T: FromForm<'r> + Send + 'static> FromData<'r> for CsrfForm<T> {
    type Error = AppError;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> DataOutcome<'r, Self> {
        let limit = req.limits().get("form").unwrap_or(64.kibibytes());
        let body = match data.open(limit).into_string().await {
            Ok(s) if s.is_complete() => s.into_inner(),
            Ok(_) => {
                return DataOutcome::Error((
                    Status::PayloadTooLarge,
                    AppError::new(crate::error::ErrorCode::TooLarge, "the form is too large"),
                ))
            }
            Err(e) => {
                return DataOutcome::Error((
                    Status::BadRequest,
                    AppError::bad_request(format!("cannot read the form: {e}")).localized("request_refusal.form_unreadable", json!({})),
                ))
            }
        };
        let user = match req.guard::<MaybeUser<'r>>().await {
            Outcome::Success(m) => m.0,
            _ => None,
        };
        let state = req.rocket().state::<AppState>().expect("state");
        let expected = form_csrf(req.cookies(), user, state.config.secure_cookies);
        let sent = body
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == "_csrf")
            .map(|(_, v)| v.to_string())
            .unwrap_or_default();
        if sent.is_empty() || !same_secret(&sent, &expected) {
            let e = AppError::forbidden("the form has expired or did not come from this site; reload the page and try again")
                .localized("request_refusal.form_expired", json!({}));
            req.local_cache(|| Some(e.clone()));
            return DataOutcome::Error((Status::Forbidden, e));
        }
        // Decode each field, keeping the owned strings for the request's lifetime, which is
        // what Rocket's form values borrow from.
        let pairs: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
        let pairs: &'r Vec<(String, String)> = req.local_cache(|| pairs);
        let fields = pairs.iter().map(|(k, v)| rocket::form::ValueField::from((k.as_str(), v.as_str())));
        // lenient: absent optional fields take their defaults, unknown ones (the token) are ignored
        match Form::<rocket::form::Lenient<T>>::parse_iter(fields) {
            Ok(v) => DataOutcome::Success(CsrfForm(v.into_inner())),
            Err(errs) => {
                // Rocket's sentences are English: a page says the refusal from the catalogue
                let e = AppError::invalid(
                    errs.iter()
                        .map(|e| FieldError::new(e.name.as_ref().map(|n| n.to_string()).unwrap_or_default(), e.kind.to_string()))
                        .collect(),
                )
                .localized("request_refusal.field_unreadable", json!({}));
                req.local_cache(|| Some(e.clone()));
                DataOutcome::Error((Status::UnprocessableEntity, e))
            }
        }
    }
}

/// A form carrying its own `_csrf` field (used for multipart uploads, where the body has to be
/// parsed before the token can be read).
pub trait WithCsrf {
    fn csrf_token(&self) -> &str;
}

/// A multipart form whose `_csrf` field is checked right after parsing, before the handler runs.
pub struct CsrfUpload<T>(pub T);

#[rocket::async_trait]
impl<'r, T: FromForm<'r> + WithCsrf + Send> FromData<'r> for CsrfUpload<T> {
    type Error = AppError;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> DataOutcome<'r, Self> {
        let form = match <Form<T> as FromData<'r>>::from_data(req, data).await {
            DataOutcome::Success(f) => f.into_inner(),
            DataOutcome::Error((status, errs)) => {
                let msg = errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ");
                let code = if status == Status::PayloadTooLarge { ErrorCode::TooLarge } else { ErrorCode::Invalid };
                return DataOutcome::Error((status, AppError::new(code, format!("the upload could not be read: {msg}"))));
            }
            DataOutcome::Forward(f) => return DataOutcome::Forward(f),
        };
        let user = match req.guard::<MaybeUser<'r>>().await {
            Outcome::Success(m) => m.0,
            _ => None,
        };
        let state = req.rocket().state::<AppState>().expect("state");
        let expected = form_csrf(req.cookies(), user, state.config.secure_cookies);
        if form.csrf_token().is_empty() || !same_secret(form.csrf_token(), &expected) {
            return DataOutcome::Error((
                Status::Forbidden,
                AppError::forbidden("the form has expired or did not come from this site; reload the page and try again")
                    .localized("request_refusal.form_expired", json!({})),
            ));
        }
        DataOutcome::Success(CsrfUpload(form))
    }
}

/// A form with nothing but its CSRF token (buttons such as "sign out" and "start").
#[derive(FromForm)]
pub struct Empty {
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::accept_language;

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        assert_eq!(accept_language("en-GB,en;q=0.9,zh;q=0.8"), Some("en"));
        assert_eq!(accept_language("fr-FR, zh-CN;q=0.7, en;q=0.5"), Some("zh"));
        assert_eq!(accept_language("zh;q=0.2, en;q=0.9"), Some("en"));
        assert_eq!(accept_language("en;q=0, zh-TW"), Some("zh"));
        assert_eq!(accept_language("de, *"), None);
        assert_eq!(accept_language(""), None);
        assert_eq!(accept_language("en;q=NaN"), None);
    }
}
