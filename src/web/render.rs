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

pub struct Renderer {
    hb: Handlebars<'static>,
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

struct Translate {
    catalogues: HashMap<&'static str, HashMap<String, String>>,
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
        let lang = ctx.data().get("lang").and_then(|l| l.as_str()).unwrap_or(LANGS[0]);
        let cat = self.catalogues.get(lang).or_else(|| self.catalogues.get(LANGS[0])).expect("catalogue");
        let text = cat.get(key).ok_or_else(|| RenderError::from(RenderErrorReason::Other(format!("no message {key:?} in catalogue {lang}"))))?;
        // {name} placeholders are filled from the helper's hash arguments
        let mut s = text.clone();
        for (k, v) in h.hash() {
            let val = match v.value() {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            s = s.replace(&format!("{{{k}}}"), &val);
        }
        out.write(&handlebars::html_escape(&s))?;
        Ok(())
    }
}

handlebars::handlebars_helper!(concat: |*args| args.iter().map(|a| match a { serde_json::Value::String(s) => s.clone(), v => v.to_string() }).collect::<String>());

impl Renderer {
    pub fn new() -> Renderer {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_embed_templates_with_extension::<Assets>(".hbs").expect("templates compile");
        let catalogues = LANGS.iter().map(|l| (*l, catalogue(l))).collect();
        hb.register_helper("t", Box::new(Translate { catalogues }));
        hb.register_helper("concat", Box::new(concat));
        Renderer { hb }
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
