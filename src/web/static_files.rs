use std::path::PathBuf;

use rocket::http::{ContentType, Header};
use rocket::response::Responder;

use crate::render::Assets;

#[derive(Responder)]
pub struct StaticFile(Vec<u8>, ContentType, Header<'static>);

/// JavaScript, CSS and images shipped in the binary.
#[rocket::get("/static/<path..>")]
pub fn file(path: PathBuf) -> Option<StaticFile> {
    let name = path.to_str()?;
    let asset = Assets::get(&format!("static/{name}"))?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let ct = ContentType::from_extension(ext).unwrap_or(ContentType::Binary);
    Some(StaticFile(asset.data.into_owned(), ct, Header::new("Cache-Control", "public, max-age=3600")))
}
