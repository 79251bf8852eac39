//! The few operating-system calls that child processes need and the
//! standard library does not offer: waiting on several pipes with a
//! timeout, non-blocking reads, resource limits, and keeping a served
//! model's prints off the protocol's stdout.
//!
//! This is the only module of [`crate::process`] with `unsafe` code. Its
//! invariants: every file descriptor passed in is open and owned by the
//! caller for the duration of the call (they come from `std::process`
//! pipes the caller holds), and every pointer passed to libc points into a
//! live, correctly sized local.

use std::io;
use std::os::fd::{FromRawFd, RawFd};
use std::time::Duration;

/// Wait until one of `fds` can be read (or its writer has gone), for at
/// most `timeout`. A negative descriptor is skipped. Returns, for each,
/// whether it is ready; all false on timeout.
pub fn wait_readable<const N: usize>(fds: [RawFd; N], timeout: Duration) -> io::Result<[bool; N]> {
    let mut pfds = fds.map(|fd| libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    });
    let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
    loop {
        // SAFETY: `pfds` is a live array of `N` pollfd structs; poll writes
        // only their `revents`. Negative fds are ignored by poll.
        let n = unsafe { libc::poll(pfds.as_mut_ptr(), N as libc::nfds_t, ms) };
        if n >= 0 {
            break;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    Ok(pfds.map(|p| p.fd >= 0 && p.revents != 0))
}

/// Make reads of `fd` return `WouldBlock` instead of waiting.
pub fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on an fd the caller owns; F_GETFL/F_SETFL take and
    // return plain integers.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A resource limit: (soft, hard); `None` is unlimited.
pub type Limit = (Option<u64>, Option<u64>);

fn limit(resource: libc::__rlimit_resource_t) -> Limit {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct `r` points to.
    if unsafe { libc::getrlimit(resource, &mut r) } != 0 {
        return (None, None);
    }
    let f = |v: libc::rlim_t| (v != libc::RLIM_INFINITY).then_some(v);
    (f(r.rlim_cur), f(r.rlim_max))
}

/// The open-file limit of this process.
pub fn open_files_limit() -> Limit {
    limit(libc::RLIMIT_NOFILE)
}

/// The limit on this user's processes (threads count too).
pub fn processes_limit() -> Limit {
    limit(libc::RLIMIT_NPROC)
}

/// Raise the soft open-file limit to `want` (no higher than the hard limit).
pub fn raise_open_files(want: u64) -> io::Result<()> {
    let (_, hard) = open_files_limit();
    let r = libc::rlimit {
        rlim_cur: hard.map_or(want, |h| want.min(h)) as libc::rlim_t,
        rlim_max: hard.map_or(libc::RLIM_INFINITY, |h| h as libc::rlim_t),
    };
    // SAFETY: setrlimit reads the struct `r` points to.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &r) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Take this process's stdout for the protocol alone: returns a file on a
/// duplicate of it, and points descriptor 1 at stderr, so that whatever
/// the served model prints goes to stderr instead of into the frames.
pub fn take_stdout() -> io::Result<std::fs::File> {
    // SAFETY: dup and dup2 on the process's own descriptors 1 and 2; the
    // duplicate is owned by the returned file alone.
    unsafe {
        let fd = libc::dup(1);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        if libc::dup2(2, 1) < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(std::fs::File::from_raw_fd(fd))
    }
}
