//! One child process as the parent sees it: frames out on its stdin,
//! frames back on its stdout with a timeout, its stderr kept (the last
//! lines, for error messages), and its ending: nothing is left running or
//! unreaped when a `Child` is dropped, whatever happened.
//!
//! Every failure is a sentence that names the program and says what it did
//! (its exit status or signal, the bytes it wrote instead of a frame, the
//! time it did not answer in) followed by the last lines of its stderr.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::os;
use super::protocol::{show_bytes, Kind, MAX_FRAME};

/// Set (by the command line's Ctrl-C handler) to make every child that is
/// being waited for give up at once.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The default time a child has to answer one frame.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Lines of a child's stderr kept for error messages.
const TAIL_LINES: usize = 12;
/// Characters kept of each such line.
const TAIL_WIDTH: usize = 300;
/// How long a child that closed its stdout has to exit before it is killed.
const EXIT_GRACE: Duration = Duration::from_millis(500);

/// A running child.
pub struct Child {
    /// The command as shown in messages: `python3 adc.py`.
    program: String,
    process: std::process::Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    stderr: Option<ChildStderr>,
    tail: Tail,
    /// Bytes read from stdout; `buf[start..]` not yet taken as frames.
    buf: Vec<u8>,
    start: usize,
    timeout: Duration,
    /// Whether it has been waited for.
    reaped: bool,
    /// Whether the frames are still in step (no error so far).
    healthy: bool,
}

impl Child {
    /// Start `command` (a program and its arguments) in `cwd` with `env`
    /// added to its environment. Its stdin and stdout are the protocol's
    /// pipes, its stderr is kept. It runs in its own process group, so that
    /// a Ctrl-C at the terminal reaches cspsim alone, which then ends it.
    pub fn spawn(
        command: &[String],
        cwd: Option<&Path>,
        env: &[(String, String)],
        timeout: Duration,
    ) -> io::Result<Child> {
        let (program, args) = command
            .split_first()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "an empty command"))?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        if let Some(cwd) = cwd {
            cmd.current_dir(cwd);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut process = cmd.spawn()?;
        let stdin = process.stdin.take();
        let stdout = process.stdout.take().expect("stdout was piped");
        let stderr = process.stderr.take().expect("stderr was piped");
        if let Err(e) = os::set_nonblocking(stderr.as_raw_fd()) {
            let _ = process.kill();
            let _ = process.wait();
            return Err(e);
        }
        Ok(Child {
            program: command.join(" "),
            process,
            stdin,
            stdout,
            stderr: Some(stderr),
            tail: Tail::default(),
            buf: Vec::with_capacity(4096),
            start: 0,
            timeout,
            reaped: false,
            healthy: true,
        })
    }

    /// Show the command as `name` in messages (as the user wrote it,
    /// rather than the path it was found at).
    pub fn named(mut self, name: String) -> Self {
        self.program = name;
        self
    }

    /// The command, as messages show it.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.process.id()
    }

    /// Send one frame.
    pub fn send(&mut self, frame: &[u8]) -> Result<(), String> {
        let Some(stdin) = self.stdin.as_mut() else {
            return Err(self.fail(format!("`{}` has been told to finish", self.program)));
        };
        match stdin.write_all(frame) {
            Ok(()) => Ok(()),
            // A closed pipe: the child has gone; say how.
            Err(_) => Err(self.died()),
        }
    }

    /// Wait for the next frame: its kind and payload.
    pub fn receive(&mut self) -> Result<(Kind, &[u8]), String> {
        let deadline = Instant::now() + self.timeout;
        let (kind, range) = loop {
            match self.frame() {
                Ok(Some(found)) => break found,
                Ok(None) => self.fill(deadline)?,
                Err(bad) => return Err(bad),
            }
        };
        Ok((kind, &self.buf[range]))
    }

    /// A whole frame at the front of the buffer, if one has arrived.
    #[allow(clippy::type_complexity)]
    fn frame(&mut self) -> Result<Option<(Kind, std::ops::Range<usize>)>, String> {
        let avail = &self.buf[self.start..];
        if avail.len() < 5 {
            return Ok(None);
        }
        let len = u32::from_le_bytes([avail[0], avail[1], avail[2], avail[3]]) as usize;
        let kind = Kind::from_byte(avail[4]);
        let kind = match kind {
            Some(k) if (1..=MAX_FRAME).contains(&len) => k,
            _ => return Err(self.not_a_frame()),
        };
        if avail.len() < 4 + len {
            return Ok(None);
        }
        let payload = self.start + 5..self.start + 4 + len;
        self.start += 4 + len;
        Ok(Some((kind, payload)))
    }

    /// Read more of stdout, keeping stderr drained, until `deadline`.
    fn fill(&mut self, deadline: Instant) -> Result<(), String> {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        loop {
            let now = Instant::now();
            if INTERRUPTED.load(Ordering::Relaxed) {
                self.kill();
                return Err(self.fail(format!("`{}` was stopped (interrupted)", self.program)));
            }
            if now >= deadline {
                self.kill();
                return Err(self.fail(format!(
                    "`{}` did not answer within {} s (the component's `timeout`), and was killed",
                    self.program,
                    secs(self.timeout)
                )));
            }
            // Wake now and then to notice an interruption.
            let wait = (deadline - now).min(Duration::from_millis(100));
            let err_fd = self.stderr.as_ref().map_or(-1, |e| e.as_raw_fd());
            let ready = os::wait_readable([self.stdout.as_raw_fd(), err_fd], wait)
                .map_err(|e| self.fail(format!("could not wait for `{}`: {e}", self.program)))?;
            if ready[1] {
                self.drain_stderr();
            }
            if ready[0] {
                let mut chunk = [0u8; 16 * 1024];
                match self.stdout.read(&mut chunk) {
                    Ok(0) => return Err(self.died()),
                    Ok(n) => {
                        self.buf.extend_from_slice(&chunk[..n]);
                        return Ok(());
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return Err(self.died()),
                }
            }
        }
    }

    /// Keep what the child has written to stderr so far.
    fn drain_stderr(&mut self) {
        let Some(stderr) = self.stderr.as_mut() else {
            return;
        };
        let mut chunk = [0u8; 8192];
        loop {
            match stderr.read(&mut chunk) {
                Ok(0) => {
                    self.stderr = None;
                    return;
                }
                Ok(n) => self.tail.push(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return, // WouldBlock: nothing more for now
            }
        }
    }

    /// The child wrote bytes that are not a frame.
    fn not_a_frame(&mut self) -> String {
        // Take what else it wrote at once, to show more of it.
        if let Ok([true]) = os::wait_readable([self.stdout.as_raw_fd()], Duration::from_millis(20))
        {
            let mut chunk = [0u8; 64];
            if let Ok(n) = self.stdout.read(&mut chunk) {
                self.buf.extend_from_slice(&chunk[..n]);
            }
        }
        let bytes = show_bytes(&self.buf[self.start..]);
        self.kill();
        self.fail(format!(
            "`{}` wrote {bytes} to its standard output, which is not a frame of the protocol; \
             a child writes only frames there (print to standard error instead)",
            self.program
        ))
    }

    /// The child closed its stdout or stdin: wait for it to exit, and say how.
    fn died(&mut self) -> String {
        let status = self.wait_for_exit(EXIT_GRACE);
        let what = match status {
            Some(s) => describe_exit(s),
            None => {
                self.kill();
                "closed its standard output and was killed".to_string()
            }
        };
        self.fail(format!("`{}` {what}", self.program))
    }

    /// Wait up to `grace` for the child to exit on its own.
    fn wait_for_exit(&mut self, grace: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + grace;
        // Short naps first: a child that is exiting is gone in microseconds,
        // and thousands of them end one after the other.
        let mut nap = Duration::from_micros(20);
        loop {
            match self.process.try_wait() {
                Ok(Some(status)) => {
                    self.reaped = true;
                    self.drain_stderr_to_end(Duration::from_millis(100));
                    return Some(status);
                }
                Ok(None) if Instant::now() < until => {
                    std::thread::sleep(nap);
                    nap = (nap * 2).min(Duration::from_millis(2));
                }
                _ => return None,
            }
        }
    }

    /// Read the rest of stderr, for a child that has exited.
    fn drain_stderr_to_end(&mut self, within: Duration) {
        let until = Instant::now() + within;
        while let Some(fd) = self.stderr.as_ref().map(|e| e.as_raw_fd()) {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() || !matches!(os::wait_readable([fd], left), Ok([true])) {
                return;
            }
            self.drain_stderr();
        }
    }

    /// Kill the child (if it is still running) and reap it.
    fn kill(&mut self) {
        if !self.reaped {
            let _ = self.process.kill();
            let _ = self.process.wait();
            self.reaped = true;
        }
        self.drain_stderr();
    }

    /// `what`, with the last lines of stderr; the child is out of step from now on.
    fn fail(&mut self, what: String) -> String {
        self.healthy = false;
        self.drain_stderr();
        match self.tail.lines() {
            Some(lines) => format!("{what}; its last lines on standard error:\n{lines}"),
            None => format!("{what} (it wrote nothing to standard error)"),
        }
    }

    /// End the child: tell it to finish, then close its stdin, then give it
    /// a moment to exit before killing it. Always reaps it.
    pub fn finish(&mut self) {
        if self.reaped {
            return;
        }
        if self.healthy {
            let mut w = super::protocol::FrameWriter::new(Kind::Finish);
            if self.send(w.finish()).is_ok() {
                let saved = self.timeout;
                self.timeout = saved.min(Duration::from_secs(1));
                let _ = self.receive();
                self.timeout = saved;
            }
        }
        self.stdin = None;
        // Its stdout closes when it exits: wait for that rather than nap.
        let until = Instant::now() + Duration::from_millis(200);
        let mut chunk = [0u8; 4096];
        while let Ok([true]) = os::wait_readable(
            [self.stdout.as_raw_fd()],
            until.saturating_duration_since(Instant::now()),
        ) {
            if !matches!(self.stdout.read(&mut chunk), Ok(1..)) {
                break;
            }
        }
        if self.wait_for_exit(Duration::from_millis(200)).is_none() {
            self.kill();
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.finish();
    }
}

/// How a child ended, in words.
pub fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        format!("exited with status {code}")
    } else if let Some(sig) = status.signal() {
        format!("was killed by signal {sig}{}", signal_name(sig))
    } else {
        format!("ended ({status})")
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGSEGV => " (SIGSEGV, a segmentation fault)",
        libc::SIGABRT => " (SIGABRT, an abort)",
        libc::SIGKILL => " (SIGKILL)",
        libc::SIGTERM => " (SIGTERM)",
        libc::SIGBUS => " (SIGBUS)",
        libc::SIGFPE => " (SIGFPE, an arithmetic fault)",
        libc::SIGILL => " (SIGILL)",
        libc::SIGINT => " (SIGINT)",
        libc::SIGPIPE => " (SIGPIPE)",
        _ => "",
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}

/// The last lines a child wrote to stderr.
#[derive(Default)]
struct Tail {
    lines: VecDeque<String>,
    partial: Vec<u8>,
}

impl Tail {
    fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                let line = String::from_utf8_lossy(&self.partial).into_owned();
                self.partial.clear();
                self.lines.push_back(line);
                if self.lines.len() > TAIL_LINES {
                    self.lines.pop_front();
                }
            } else if self.partial.len() < TAIL_WIDTH * 4 {
                self.partial.push(b);
            }
        }
    }

    /// The kept lines, indented, or `None` if there are none.
    fn lines(&self) -> Option<String> {
        let last = (!self.partial.is_empty()).then(|| String::from_utf8_lossy(&self.partial));
        let all: Vec<String> = self
            .lines
            .iter()
            .map(String::as_str)
            .chain(last.as_deref())
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let short: String = l.chars().take(TAIL_WIDTH).collect();
                format!("  | {short}")
            })
            .collect();
        (!all.is_empty()).then(|| all.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, timeout: Duration) -> Child {
        let cmd = ["sh".to_string(), "-c".to_string(), script.to_string()];
        Child::spawn(&cmd, None, &[], timeout).unwrap()
    }

    #[test]
    fn an_exit_is_reported_with_its_status_and_stderr() {
        let mut c = sh("echo oops >&2; exit 3", DEFAULT_TIMEOUT);
        let e = c.receive().unwrap_err();
        assert!(e.contains("exited with status 3"), "{e}");
        assert!(e.contains("  | oops"), "{e}");
    }

    #[test]
    fn a_signal_is_named() {
        let mut c = sh("kill -SEGV $$", DEFAULT_TIMEOUT);
        let e = c.receive().unwrap_err();
        assert!(e.contains("signal 11 (SIGSEGV"), "{e}");
        assert!(e.contains("wrote nothing to standard error"), "{e}");
    }

    #[test]
    fn a_silent_child_times_out_and_is_killed() {
        let mut c = sh("sleep 30", Duration::from_millis(200));
        let started = Instant::now();
        let e = c.receive().unwrap_err();
        assert!(e.contains("did not answer within 0.2 s"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(c.reaped);
    }

    #[test]
    fn text_on_stdout_is_shown_as_bytes() {
        let mut c = sh("echo hello; sleep 5", DEFAULT_TIMEOUT);
        let e = c.receive().unwrap_err();
        assert!(e.contains("wrote 68 65 6c 6c 6f 0a (\"hello\\n\")"), "{e}");
    }

    #[test]
    fn frames_arrive_whole_even_in_pieces() {
        // A frame of kind Bye with no payload, written in two pieces.
        let mut c = sh(
            "printf '\\001\\000'; sleep 0.05; printf '\\000\\000\\205'; sleep 5",
            DEFAULT_TIMEOUT,
        );
        let (kind, payload) = c.receive().unwrap();
        assert_eq!(kind, Kind::Bye);
        assert!(payload.is_empty());
    }

    #[test]
    fn the_stderr_tail_keeps_the_last_lines() {
        let mut t = Tail::default();
        for i in 0..20 {
            t.push(format!("line {i}\n").as_bytes());
        }
        t.push(b"partial");
        let lines = t.lines().unwrap();
        assert!(!lines.contains("| line 7\n"));
        assert!(lines.contains("| line 8\n"));
        assert!(lines.contains("line 19"));
        assert!(lines.ends_with("  | partial"));
    }
}
