use std::path::PathBuf;

use lawcert::cli;

/// Big allocations (argon2's 19 MiB per password check) always go straight to mmap and back to
/// the OS on free. glibc otherwise raises this threshold after the first such free and keeps
/// the memory in every thread's arena, which a sign-in storm turns into hundreds of MB.
fn return_big_allocations_to_the_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called once before any other thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// `lawcert bank import`'s options, in any order.
#[derive(Default)]
struct ImportFlags<'a> {
    dry_run: bool,
    author: Option<&'a str>,
    statute: Option<&'a str>,
    edition: Option<&'a str>,
    difficulty: Option<&'a str>,
    levels: Option<&'a str>,
}

/// `[--dry-run] [--as BADGE] [--statute S] [--edition E] [--difficulty D] [--levels L]`.
fn import_flags<'a>(rest: &[&'a str]) -> Option<ImportFlags<'a>> {
    let (mut flags, mut i) = (ImportFlags::default(), 0);
    while i < rest.len() {
        let value = rest.get(i + 1).copied();
        let slot = match rest[i] {
            "--dry-run" => {
                flags.dry_run = true;
                i += 1;
                continue;
            }
            "--as" => &mut flags.author,
            "--statute" => &mut flags.statute,
            "--edition" => &mut flags.edition,
            "--difficulty" => &mut flags.difficulty,
            "--levels" => &mut flags.levels,
            _ => return None,
        };
        *slot = Some(value?);
        i += 2;
    }
    Some(flags)
}

fn main() {
    return_big_allocations_to_the_os();
    rocket::execute(run());
}

async fn run() {
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
        ["bank", "import", file, rest @ ..] if import_flags(rest).is_some() => {
            let f = import_flags(rest).unwrap_or_default();
            let defaults = match lawcert::domain::formats::Defaults::from_text(f.statute, f.edition, f.difficulty, f.levels) {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("bank import: {e}");
                    std::process::exit(2);
                }
            };
            std::process::exit(cli::bank_import(&PathBuf::from(file), f.dry_run, f.author, &defaults));
        }
        ["bank", "template", out] => std::process::exit(cli::bank_template(&PathBuf::from(out))),
        ["audit", "verify"] => std::process::exit(cli::audit_verify(None)),
        ["audit", "verify", "--against", against] => std::process::exit(cli::audit_verify(Some(against))),
        ["audit", "checkpoint"] => std::process::exit(cli::audit_checkpoint(None)),
        ["audit", "checkpoint", "--out", file] => std::process::exit(cli::audit_checkpoint(Some(&PathBuf::from(file)))),
        ["admin", "create", badge, rest @ ..] => std::process::exit(cli::admin_create(badge, rest)),
        ["backup", file] => std::process::exit(cli::backup(&PathBuf::from(file))),
        ["restore", file] => std::process::exit(cli::restore(&PathBuf::from(file))),
        ["calibrate", rest @ ..] => std::process::exit(lawcert::cli_calibrate::main(rest)),
        ["help" | "--help" | "-h"] => println!("{}", cli::USAGE),
        _ => {
            eprintln!("{}", cli::USAGE);
            std::process::exit(2);
        }
    }
}
