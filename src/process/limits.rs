//! Whether this machine lets cspsim start `n` more child processes: the
//! user's process limit, the system's pid and thread limits, and the open
//! files the parent holds for them (three pipes each). Checked before the
//! processes engine starts any child, so that it never half-starts.

use super::os;

/// Pipes the parent holds per child.
const FDS_PER_CHILD: u64 = 3;
/// Room kept for everything else (the trace file, the terminal, the
/// runtime's own descriptors and threads).
const MARGIN: u64 = 64;

/// `Ok` if `children` more processes fit; raises the soft open-file limit
/// when the hard one allows. Otherwise a sentence saying which limit stops it.
pub fn check_room(children: usize) -> Result<(), String> {
    let n = children as u64;
    let tasks = running_tasks();
    for (file, what) in [
        ("/proc/sys/kernel/pid_max", "process ids (kernel.pid_max)"),
        ("/proc/sys/kernel/threads-max", "tasks (kernel.threads-max)"),
    ] {
        if let Some(max) = read_number(file) {
            if tasks + n + MARGIN > max {
                return Err(format!(
                    "{children} components need {children} processes, but this machine allows {max} {what} and {tasks} are in use"
                ));
            }
        }
    }
    if let (Some(limit), false) = (os::processes_limit().0, is_root()) {
        let mine = user_tasks();
        if mine + n + MARGIN > limit {
            return Err(format!(
                "{children} components need {children} processes, but this user may run {limit} (ulimit -u) and runs {mine} already"
            ));
        }
    }
    let open = open_files();
    let need = open + n * FDS_PER_CHILD + MARGIN;
    match os::open_files_limit() {
        (Some(soft), hard) if soft < need => {
            if hard.is_none_or(|h| h >= need) && os::raise_open_files(need).is_ok() {
                return Ok(());
            }
            Err(format!(
                "{children} components need {} open files for their pipes, but this process may open {} (ulimit -n{})",
                n * FDS_PER_CHILD,
                hard.map_or(soft, |h| h.max(soft)),
                hard.map_or(String::new(), |h| format!(", hard limit {h}"))
            ))
        }
        _ => Ok(()),
    }
}

fn read_number(file: &str) -> Option<u64> {
    std::fs::read_to_string(file).ok()?.trim().parse().ok()
}

/// Every task (process or thread) on the machine: `/proc/loadavg`'s fourth field.
fn running_tasks() -> u64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| {
            let field = s.split_whitespace().nth(3)?;
            field.split('/').nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

fn is_root() -> bool {
    own_uid() == Some(0)
}

fn own_uid() -> Option<u32> {
    uid_of(&std::fs::read_to_string("/proc/self/status").ok()?)
}

fn uid_of(status: &str) -> Option<u32> {
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Tasks (threads included, as the limit counts them) of this user.
fn user_tasks() -> u64 {
    let Some(me) = own_uid() else { return 0 };
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("status")).ok())
        .filter(|s| uid_of(s) == Some(me))
        .map(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|t| t.trim().parse().ok())
                .unwrap_or(1)
        })
        .sum()
}

/// Descriptors this process has open now.
fn open_files() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_children_fit_and_an_absurd_number_does_not() {
        assert!(check_room(2).is_ok());
        let e = check_room(1 << 40).unwrap_err();
        assert!(e.contains("need"), "{e}");
    }

    #[test]
    fn uids_are_read_from_proc_status() {
        assert_eq!(
            uid_of("Name:\tx\nUid:\t1000\t1000\t1000\t1000\n"),
            Some(1000)
        );
        assert_eq!(uid_of("Name:\tx\n"), None);
    }
}
