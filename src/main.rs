use clap::Parser;

use lawcert::cli;

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read at its start: unused pages go back to the OS after a second, by a
/// background thread, so a burst (a sign-in storm's 19 MiB argon2 buffers, a queue of saves)
/// does not stay resident.
#[cfg(not(target_env = "msvc"))]
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

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
    let args = cli::args::Cli::parse();
    if !matches!(args.command, None | Some(cli::args::Command::Serve)) {
        end_quietly_on_closed_pipe();
    }
    std::process::exit(rocket::execute(cli::run(args)));
}
