use std::path::PathBuf;

use lawcert::cli;

#[rocket::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        [] | ["serve"] => {
            let app = match lawcert::rocket() {
                Ok(app) => app,
                Err(e) => {
                    eprintln!("lawcert cannot start: {e:#}");
                    std::process::exit(2);
                }
            };
            if let Err(e) = app.launch().await {
                eprintln!("lawcert stopped: {e}");
                std::process::exit(1);
            }
        }
        ["bank", "check", dir, rest @ ..] if rest.iter().all(|r| *r == "--json") => {
            std::process::exit(cli::bank_check(&PathBuf::from(dir), !rest.is_empty()));
        }
        ["help" | "--help" | "-h"] => println!("{}", cli::USAGE),
        _ => {
            eprintln!("{}", cli::USAGE);
            std::process::exit(2);
        }
    }
}
