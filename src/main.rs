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
        ["help" | "--help" | "-h"] => println!("{}", cli::USAGE),
        _ => {
            eprintln!("{}", cli::USAGE);
            std::process::exit(2);
        }
    }
}
