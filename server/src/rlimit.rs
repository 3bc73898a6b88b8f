//! The process's limit on open files, raised at start. Part of the `shardlog` binary (declared in
//! `main.rs`), not of the library: an embedding program owns its own process limits.
//!
//! Every connection is a socket and every open shard keeps files of its log open, so the soft
//! `RLIMIT_NOFILE` most shells hand out (often 1024) would end a busy server with `EMFILE` long
//! before `--connections-max` or `--shard-limit` does. The hard limit is what the administrator
//! allows; the soft one is only a default, which any process may raise up to the hard one.

/// Raises the soft limit on open files to the hard limit and logs the figure at info. A failure
/// is logged as a warning and the server goes on with the limit it has: a low limit refuses some
/// connections or shard opens later, which is better than refusing to start. (macOS reports an
/// unlimited hard limit but refuses a soft limit above `OPEN_MAX`: there this warns.)
pub fn raise_open_files_limit() {
    match raise_soft_to_hard() {
        Ok((before, after)) if before == after => {
            tracing::info!(
                open_files_max = after,
                "open-files limit already at its hard limit"
            );
        }
        Ok((before, after)) => {
            tracing::info!(
                open_files_max = after,
                was = before,
                "raised the open-files limit to its hard limit"
            );
        }
        Err(error) => {
            tracing::warn!(%error, "cannot raise the open-files limit; keeping the current one");
        }
    }
}

/// Sets `RLIMIT_NOFILE`'s soft limit to its hard limit; returns the soft limit before and after.
#[cfg(unix)]
fn raise_soft_to_hard() -> std::io::Result<(u64, u64)> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit` for the duration of the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let before = limit.rlim_cur;
    if before < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: `limit` is a valid `rlimit`, read by the call and not kept.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    // `rlim_t` is u64 on the 64-bit Unixes but narrower on some 32-bit ones.
    #[allow(clippy::useless_conversion)]
    Ok((u64::from(before), u64::from(limit.rlim_cur)))
}

/// No `RLIMIT_NOFILE` outside Unix.
#[cfg(not(unix))]
fn raise_soft_to_hard() -> std::io::Result<(u64, u64)> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "no RLIMIT_NOFILE on this platform",
    ))
}
