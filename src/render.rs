//! Handlebars pages and e-mails, in strict mode, with the message catalogues behind `{{t "key"}}`.

use std::collections::HashMap;

use handlebars::{Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderError, RenderErrorReason};
use rust_embed::RustEmbed;

/// Pages, partials, catalogues and static files, built into the binary.
#[derive(RustEmbed)]
#[folder = "templates/"]
pub struct Assets;

/// Languages the UI speaks; the first is the default.
pub const LANGS: [&str; 2] = ["zh", "en"];

/// `lang` if it is one of [`LANGS`], else the bureau's language (a stored word from an older
/// release, or a language since removed).
pub fn known_lang(lang: &str) -> &'static str {
    LANGS.iter().copied().find(|l| *l == lang).unwrap_or(LANGS[0])
}

/// Every language's catalogue: "section.key" → text.
type Catalogues = HashMap<&'static str, HashMap<String, String>>;

pub struct Renderer {
    hb: Handlebars<'static>,
    catalogues: Catalogues,
}

/// Flattens a TOML catalogue into "section.key" → text.
pub fn flatten_catalogue(prefix: &str, v: &toml::Value, out: &mut HashMap<String, String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten_catalogue(&key, v, out);
            }
        }
        toml::Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// Loads the catalogue of one language.
pub fn catalogue(lang: &str) -> HashMap<String, String> {
    let file = Assets::get(&format!("locales/{lang}.toml")).unwrap_or_else(|| panic!("catalogue {lang} is missing"));
    let text = std::str::from_utf8(&file.data).expect("catalogue is UTF-8");
    let value: toml::Value = toml::from_str(text).unwrap_or_else(|e| panic!("catalogue {lang}: {e}"));
    let mut out = HashMap::new();
    flatten_catalogue("", &value, &mut out);
    out
}

fn catalogues() -> Catalogues {
    LANGS.iter().map(|l| (*l, catalogue(l))).collect()
}

/// The catalogue of `lang`, else of the bureau's language.
fn catalogue_in<'c>(catalogues: &'c Catalogues, lang: &str) -> &'c HashMap<String, String> {
    catalogues.get(lang).or_else(|| catalogues.get(LANGS[0])).expect("catalogue")
}

/// Message `key` in `lang` with `{name}` placeholders filled; the key itself when it is missing.
fn text_in(catalogues: &Catalogues, lang: &str, key: &str, params: &serde_json::Value) -> String {
    catalogue_in(catalogues, lang).get(key).map(|t| fill(t, params)).unwrap_or_else(|| key.to_string())
}

/// The language of the page or mail being rendered (`lang` in its data).
fn lang_of(ctx: &Context) -> &str {
    ctx.data().get("lang").and_then(|l| l.as_str()).unwrap_or(LANGS[0])
}

struct Translate {
    catalogues: Catalogues,
    /// Off for plain-text e-mail, where `&` must stay `&`.
    escape: bool,
}

/// Fills `{name}` placeholders from a JSON object.
pub fn fill(text: &str, params: &serde_json::Value) -> String {
    let mut s = text.to_string();
    if let Some(map) = params.as_object() {
        for (k, v) in map {
            let val = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            s = s.replace(&format!("{{{k}}}"), &val);
        }
    }
    s
}

impl handlebars::HelperDef for Translate {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let key = h.param(0).and_then(|p| p.value().as_str()).ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex("t", 0))?;
        let lang = lang_of(ctx);
        let text = catalogue_in(&self.catalogues, lang)
            .get(key)
            .ok_or_else(|| RenderError::from(RenderErrorReason::Other(format!("no message {key:?} in catalogue {lang}"))))?;
        // {name} placeholders are filled from the helper's hash arguments
        let params: serde_json::Map<String, serde_json::Value> = h.hash().iter().map(|(k, v)| (k.to_string(), v.value().clone())).collect();
        let s = fill(text, &serde_json::Value::Object(params));
        out.write(&if self.escape { handlebars::html_escape(&s) } else { s })?;
        Ok(())
    }
}

/// `{{problem line}}`: a page's problem line (`field: sentence`) without the field's name, for
/// the list at the top of a form (the field's name places it beside its field). Escaped.
fn problem(h: &Helper<'_>, _: &Handlebars<'_>, _: &Context, _: &mut RenderContext<'_, '_>, out: &mut dyn Output) -> HelperResult {
    let line = h.param(0).and_then(|p| p.value().as_str()).unwrap_or("");
    out.write(&handlebars::html_escape(&crate::domain::validation::FieldError::from_line(line).message))?;
    Ok(())
}

/// `{{field_error "pass_percent" "other.name"}}`: the page's problems (`errors`, lines
/// `field: problem` as `AppError::lines` gives them) with one of these field names, shown beside
/// the field, so a long form says where each problem is and not only at the top.
fn field_error(h: &Helper<'_>, _: &Handlebars<'_>, ctx: &Context, _: &mut RenderContext<'_, '_>, out: &mut dyn Output) -> HelperResult {
    let names: Vec<&str> = h.params().iter().filter_map(|p| p.value().as_str()).collect();
    let first = *names.first().ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex("field_error", 0))?;
    let Some(errors) = ctx.data().get("errors").and_then(|e| e.as_array()) else { return Ok(()) };
    let mine: Vec<String> = errors
        .iter()
        .filter_map(|e| e.as_str())
        .map(crate::domain::validation::FieldError::from_line)
        .filter(|f| names.contains(&f.field.as_str()))
        .map(|f| handlebars::html_escape(&f.message))
        .collect();
    if !mine.is_empty() {
        out.write(&format!("<span class=\"field-error\" id=\"error-{}\">{}</span>", handlebars::html_escape(first), mine.join("；")))?;
    }
    Ok(())
}

/// `{{when deadline}}`: a date or time the server wrote (`2026-12-03`, `2026-12-03 09:00`, RFC
/// 3339) in the page's or mail's language (`lang` in its data); anything else as it is.
fn when(h: &Helper<'_>, r: &Handlebars<'_>, ctx: &Context, _: &mut RenderContext<'_, '_>, out: &mut dyn Output) -> HelperResult {
    let text = match h.param(0).map(|p| p.value()) {
        Some(serde_json::Value::String(s)) => crate::timefmt::localize(lang_of(ctx), s).unwrap_or_else(|| s.clone()),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    };
    out.write(&r.get_escape_fn()(&text))?;
    Ok(())
}

/// Every string value of `params` that is a date or time as the server writes it, in `lang`
/// (mails: their placeholders and subjects are filled from these).
pub fn localize_dates(lang: &str, params: &mut serde_json::Value) {
    match params {
        serde_json::Value::Object(m) => m.values_mut().for_each(|v| localize_dates(lang, v)),
        serde_json::Value::Array(a) => a.iter_mut().for_each(|v| localize_dates(lang, v)),
        serde_json::Value::String(s) => {
            if let Some(l) = crate::timefmt::localize(lang, s) {
                *s = l;
            }
        }
        _ => {}
    }
}

handlebars::handlebars_helper!(concat: |*args| args.iter().map(|a| match a { serde_json::Value::String(s) => s.clone(), v => v.to_string() }).collect::<String>());

impl Renderer {
    pub fn new() -> Renderer {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_embed_templates_with_extension::<Assets>(".hbs").expect("templates compile");
        let catalogues = catalogues();
        hb.register_helper("t", Box::new(Translate { catalogues: catalogues.clone(), escape: true }));
        hb.register_helper("concat", Box::new(concat));
        hb.register_helper("field_error", Box::new(field_error));
        hb.register_helper("problem", Box::new(problem));
        hb.register_helper("when", Box::new(when));
        Renderer { hb, catalogues }
    }

    /// A message in `lang` with `{name}` placeholders filled (for text built in code, e.g.
    /// reasons listed on a page); the key itself when it is missing.
    pub fn text(&self, lang: &str, key: &str, params: &serde_json::Value) -> String {
        text_in(&self.catalogues, lang, key, params)
    }

    pub fn render(&self, name: &str, data: &serde_json::Value) -> Result<String, String> {
        self.hb.render(name, data).map_err(|e| format!("template {name}: {e}"))
    }
}

impl Default for Renderer {
    fn default() -> Self {
        Renderer::new()
    }
}

/// A rendered e-mail.
pub struct MailText {
    pub subject: String,
    pub text: String,
    pub html: String,
}

struct MailRenderer {
    html: Handlebars<'static>,
    text: Handlebars<'static>,
    catalogues: Catalogues,
}

fn mail_renderer() -> &'static MailRenderer {
    static R: std::sync::OnceLock<MailRenderer> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        let make = |escape: bool| {
            let mut hb = Handlebars::new();
            hb.set_strict_mode(true);
            if !escape {
                hb.register_escape_fn(handlebars::no_escape);
            }
            for name in Assets::iter().filter(|n| n.starts_with("email/") && n.ends_with(".hbs")) {
                let file = Assets::get(&name).expect("listed");
                let text = std::str::from_utf8(&file.data).expect("template is UTF-8");
                hb.register_template_string(name.trim_end_matches(".hbs"), text).expect("e-mail template compiles");
            }
            hb.register_helper("t", Box::new(Translate { catalogues: catalogues(), escape }));
            hb
        };
        MailRenderer { html: make(true), text: make(false), catalogues: catalogues() }
    })
}

/// A message of the catalogue in `lang` with its placeholders filled, for text services build
/// (e.g. an import's row errors) in the reader's language; the key itself when it is missing.
pub fn say(lang: &str, key: &str, params: &serde_json::Value) -> String {
    text_in(&mail_renderer().catalogues, lang, key, params)
}

/// A validator's [`Problem`](crate::domain::validation::Problem) said in `lang`: the catalogue's
/// `problem.<key>` with its values, `{field}` being the field's label (the text of `label_key`
/// up to a colon, without its explanation; none when `label_key` is empty). A value `@key` that
/// names a catalogue entry (`@level.basic`) is said as that entry.
pub fn say_problem(lang: &str, p: &crate::domain::validation::Problem, label_key: &str) -> String {
    let entry = |v: &str| {
        let key = v.strip_prefix('@')?;
        let said = say(lang, key, &serde_json::json!({}));
        (said != key).then_some(said)
    };
    let mut params: serde_json::Map<String, serde_json::Value> =
        p.params.iter().map(|(k, v)| ((*k).to_string(), serde_json::Value::String(entry(v).unwrap_or_else(|| v.clone())))).collect();
    if !label_key.is_empty() {
        let label = say(lang, label_key, &serde_json::json!({}));
        let name = label.split(['：', ':']).next().unwrap_or(&label).trim().to_string();
        params.insert("field".into(), serde_json::Value::String(name));
    }
    say(lang, &format!("problem.{}", p.key), &serde_json::Value::Object(params))
}

/// A [`Said`](crate::domain::said::Said) in `lang`: the catalogue's `problem.<key>` with its
/// values, its parts (places named inside it) said the same way.
pub fn say_said(lang: &str, s: &crate::domain::said::Said) -> String {
    let mut params: serde_json::Map<String, serde_json::Value> =
        s.params.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
    for (k, part) in &s.parts {
        params.insert(k.clone(), serde_json::Value::String(say_said(lang, part)));
    }
    say(lang, &format!("problem.{}", s.key), &serde_json::Value::Object(params))
}

/// A [`Located`](crate::domain::said::Located) problem in `lang`: its places, outermost first,
/// then the sentence (`problem.bank_file.located` joins each place to what follows).
pub fn say_located(lang: &str, p: &crate::domain::said::Located) -> String {
    let join = say(lang, "problem.bank_file.located", &serde_json::json!({}));
    let (head, tail) = join.split_once("{what}").unwrap_or((&join, ""));
    p.at.iter()
        .rev()
        .fold(say_said(lang, &p.what), |what, place| format!("{}{what}{tail}", head.replacen("{at}", &say_said(lang, place), 1)))
}

/// Renders e-mail `kind` (templates/email/KIND.{txt,html}.hbs, subject `mail.KIND.subject` in
/// the catalogue) in `lang`. Values in `params` are escaped in the HTML part.
pub fn render_mail(kind: &str, lang: &str, params: &serde_json::Value) -> Result<MailText, String> {
    let r = mail_renderer();
    let mut params = params.clone();
    localize_dates(lang, &mut params);
    let params = &params;
    let mut data = params.clone();
    if let Some(m) = data.as_object_mut() {
        m.insert("lang".into(), serde_json::Value::String(lang.into()));
        m.entry("url").or_insert(serde_json::Value::String(String::new()));
    }
    let subject =
        catalogue_in(&r.catalogues, lang).get(&format!("mail.{kind}.subject")).ok_or_else(|| format!("no subject for e-mail {kind:?}"))?;
    Ok(MailText {
        // no line breaks in a header, whatever a title contains
        subject: fill(subject, params).replace(['\r', '\n'], " "),
        text: r.text.render(&format!("email/{kind}.txt"), &data).map_err(|e| format!("e-mail {kind} (text): {e}"))?,
        html: r.html.render(&format!("email/{kind}.html"), &data).map_err(|e| format!("e-mail {kind} (html): {e}"))?,
    })
}
