use clap::Parser;

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

/// A command whose output is piped into `head` ends quietly when the pipe closes, as command
/// line tools do, instead of panicking on the write. The server keeps ignoring SIGPIPE (a
/// client that hangs up is not a reason to stop).
fn end_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restores the default disposition of one signal before any other thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() {
    return_big_allocations_to_the_os();
    let args = cli::args::Cli::parse();
    if !matches!(args.command, None | Some(cli::args::Command::Serve)) {
        end_quietly_on_closed_pipe();
    }
    std::process::exit(rocket::execute(cli::run(args)));
}
